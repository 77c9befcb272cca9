import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler } from '@membergraph/platform';
import { erasePointsAccount } from '../../services/points-erasure.service';

/** `member.erased` -> the account marked erased with its totals kept; tier projection, devices and IPs dropped. */
export function memberErasedHandler(): EventHandler {
  return async ({ em, log }, event) => {
    const { memberId, erasedAt } = eventData(EventType.MemberErased, event);
    await erasePointsAccount(em, memberId, new Date(erasedAt));
    log.info({ memberId }, 'points account anonymised');
  };
}
