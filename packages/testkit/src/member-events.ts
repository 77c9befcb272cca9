import { EventType, type MemberRegistered, type OrderCompleted } from '@membergraph/contracts';
import { createEnvelope, newId, type EventEnvelope } from '@membergraph/platform';

/** Valid MEMBER-stream envelopes, as the member service publishes them; `overrides` replace fields of `data`. */
export const memberEvents = {
  /** A `member.registered` for `memberId`: a STORE registration at the entry tier, now. */
  registered(memberId: string, overrides: Partial<MemberRegistered> = {}): EventEnvelope<MemberRegistered> {
    return createEnvelope<MemberRegistered>({
      type: EventType.MemberRegistered,
      source: 'member',
      subject: memberId,
      data: { memberId, channel: 'STORE', tier: 'MEMBER', registeredAt: new Date().toISOString(), ...overrides },
    });
  },
  /** An `order.completed` of `amount` fen for `memberId`: a new POS order in store s1, now (external id `X-<orderId>`). */
  orderCompleted(memberId: string, amount: number, overrides: Partial<OrderCompleted> = {}): EventEnvelope<OrderCompleted> {
    const orderId = overrides.orderId ?? newId();
    return createEnvelope<OrderCompleted>({
      type: EventType.OrderCompleted,
      source: 'member',
      subject: memberId,
      data: {
        orderId,
        memberId,
        source: 'pos',
        externalId: `X-${orderId}`,
        amount,
        storeId: 's1',
        channel: 'STORE',
        completedAt: new Date().toISOString(),
        ...overrides,
      },
    });
  },
};
