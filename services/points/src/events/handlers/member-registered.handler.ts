import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler, ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../../config';
import { EarnReason, idempotencyKeys } from '../../domain/ledger';
import { projectTier } from '../../services/earn-rules.service';
import { earnPoints } from '../../services/points-ledger.service';
import { statusOf } from '../../services/member-status.service';
import { mayEarn } from '../../domain/member-status';

/** `member.registered` -> the member's tier in the local projection, and the welcome bonus once per member. */
export function memberRegisteredHandler(kit: ServiceKit<PointsConfig>): EventHandler {
  return async ({ em, log }, event) => {
    const { memberId, tier, registeredAt } = eventData(EventType.MemberRegistered, event);
    await projectTier(em, memberId, tier, new Date(registeredAt));
    const amount = kit.config.WELCOME_POINTS;
    if (amount === 0) return;
    // A status change can overtake the registration (redelivery): a blocked member gets no bonus.
    const status = await statusOf(em, memberId);
    if (!mayEarn(status)) {
      log.info({ memberId, status }, 'member may not earn: no welcome bonus');
      return;
    }
    await earnPoints(kit, em, {
      memberId,
      amount,
      reason: EarnReason.WELCOME,
      reference: event.id,
      idempotencyKey: idempotencyKeys.welcome(memberId),
    });
  };
}
