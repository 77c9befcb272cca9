import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler } from '@membergraph/platform';
import { projectStatus } from '../../services/member-status.service';

/** `member.status_changed` -> the status projection (earning and holds read it), unless a newer status is already known. */
export function memberStatusChangedHandler(): EventHandler {
  return async ({ em }, event) => {
    const { memberId, to, changedAt } = eventData(EventType.MemberStatusChanged, event);
    await projectStatus(em, memberId, to, new Date(changedAt));
  };
}
