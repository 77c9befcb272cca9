import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler } from '@membergraph/platform';
import { applyRuleTags } from '../../services/tag.service';

/** RULE tag sets from analytics; MANUAL sets are this service's own announcements and are skipped. */
export function memberTagsChangedHandler(): EventHandler {
  return async ({ em, log }, event) => {
    const data = eventData(EventType.MemberTagsChanged, event);
    if (data.source !== 'RULE') return;
    const outcome = await applyRuleTags(em, event.source, data);
    if (outcome !== 'APPLIED') log.debug({ memberId: data.memberId, outcome, eventId: event.id }, 'rule tags not applied');
  };
}
