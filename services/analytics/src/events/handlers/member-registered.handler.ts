import type { EventHandler } from '@membergraph/platform';
import { EventType, eventData } from '@membergraph/contracts';
import { applyRegistration } from '../../domain/facts';
import { updateMemberFacts } from '../../services/member-facts.service';

/** `member.registered`: records when and where the member joined (creating the facts if orders came first). */
export function memberRegisteredHandler(): EventHandler {
  return async ({ em }, event) => {
    const data = eventData(EventType.MemberRegistered, event);
    await updateMemberFacts(em, data.memberId, (facts) =>
      applyRegistration(facts, { channel: data.channel, registeredAt: new Date(data.registeredAt) }),
    );
  };
}
