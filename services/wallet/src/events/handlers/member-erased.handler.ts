import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler } from '@membergraph/platform';
import { eraseMember } from '../../services/wallet-account.service';

/**
 * `member.erased` -> ERASED for good: the wallet moves no more money in or out. The wallet holds no
 * PII (ids and amounts only), so the journal, which must never be edited, stays as it is; what is
 * left in the wallet is for finance to pay back (refunds stay allowed).
 */
export function memberErasedHandler(): EventHandler {
  return async ({ em, log }, event) => {
    const { memberId } = eventData(EventType.MemberErased, event);
    await eraseMember(em, memberId);
    log.info({ memberId }, 'wallet closed for an erased member');
  };
}
