import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler } from '@membergraph/platform';
import { projectMemberStatus } from '../../services/wallet-account.service';

/** `member.status_changed` -> the status projection money moves read under the member's lock, unless a newer status is already known. */
export function memberStatusChangedHandler(): EventHandler {
  return async ({ em }, event) => {
    const { memberId, to, changedAt } = eventData(EventType.MemberStatusChanged, event);
    await projectMemberStatus(em, memberId, to, new Date(changedAt));
  };
}
