import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler, ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../../config';
import { EarnReason, idempotencyKeys } from '../../domain/ledger';
import { earnPoints } from '../../services/points-ledger.service';

/** `member.registered` -> the welcome bonus, once per member. */
export function memberRegisteredHandler(kit: ServiceKit<PointsConfig>): EventHandler {
  return async ({ em }, event) => {
    const { memberId } = eventData(EventType.MemberRegistered, event);
    const amount = kit.config.WELCOME_POINTS;
    if (amount === 0) return;
    await earnPoints(kit, em, {
      memberId,
      amount,
      reason: EarnReason.WELCOME,
      reference: event.id,
      idempotencyKey: idempotencyKeys.welcome(memberId),
    });
  };
}
