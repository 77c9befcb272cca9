import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler, ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../../config';
import { awardProfileCompleted } from '../../services/points-behaviour.service';

/** `member.profile_completed` -> PROFILE_COMPLETED_POINTS once per member (shared key with awardBehaviourPoints), under the daily caps. */
export function memberProfileCompletedHandler(kit: ServiceKit<PointsConfig>): EventHandler {
  return async ({ em, log }, event) => {
    const { memberId, completedAt } = eventData(EventType.MemberProfileCompleted, event);
    const result = await awardProfileCompleted(kit, em, memberId, event.id, new Date(completedAt));
    if (!result) log.info({ memberId }, 'member may not earn: no profile completion points');
  };
}
