import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler } from '@membergraph/platform';
import { projectTier } from '../../services/earn-rules.service';

/** `member.tier_changed` -> the tier projection, unless a newer tier is already known (changedAt decides). */
export function memberTierChangedHandler(): EventHandler {
  return async ({ em }, event) => {
    const { memberId, to, changedAt } = eventData(EventType.MemberTierChanged, event);
    await projectTier(em, memberId, to, new Date(changedAt));
  };
}
