import type { EventHandler } from '@membergraph/platform';
import { EventType, eventData } from '@membergraph/contracts';
import { applyOrder } from '../../domain/facts';
import { updateMemberFacts } from '../../services/member-facts.service';

/** `order.completed`: adds the order to the member's count and spend, in whatever order orders arrive. */
export function orderCompletedHandler(): EventHandler {
  return async ({ em }, event) => {
    const data = eventData(EventType.OrderCompleted, event);
    await updateMemberFacts(em, data.memberId, (facts) => applyOrder(facts, { amount: data.amount, completedAt: new Date(data.completedAt) }));
  };
}
