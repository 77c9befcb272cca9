import {
  EventType,
  type MemberConsentsChanged,
  type MemberErased,
  type MemberProfileCompleted,
  type MemberRegistered,
  type MemberStatusChanged,
  type MemberTagsChanged,
  type MemberTierChanged,
  type OrderCompleted,
  type OrderRefunded,
} from '@membergraph/contracts';
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
  /** An `order.refunded` of `amount` fen of order `orderId` (of `orderAmount` fen), refunded now. */
  orderRefunded(
    memberId: string,
    orderId: string,
    amount: number,
    orderAmount: number,
    overrides: Partial<OrderRefunded> = {},
  ): EventEnvelope<OrderRefunded> {
    return createEnvelope<OrderRefunded>({
      type: EventType.OrderRefunded,
      source: 'member',
      subject: memberId,
      data: {
        refundId: newId(),
        orderId,
        memberId,
        source: 'pos',
        externalOrderId: `X-${orderId}`,
        amount,
        refundedTotal: amount,
        orderAmount,
        refundedAt: new Date().toISOString(),
        ...overrides,
      },
    });
  },
  /** A `member.tier_changed` of `memberId` from `from` to `to` (an UPGRADE unless overridden), now. */
  tierChanged(memberId: string, from: string, to: string, overrides: Partial<MemberTierChanged> = {}): EventEnvelope<MemberTierChanged> {
    return createEnvelope<MemberTierChanged>({
      type: EventType.MemberTierChanged,
      source: 'member',
      subject: memberId,
      data: { memberId, from, to, reason: 'UPGRADE', changedAt: new Date().toISOString(), ...overrides },
    });
  },
  /** A `member.status_changed` of `memberId`, now. */
  statusChanged(
    memberId: string,
    from: MemberStatusChanged['from'],
    to: MemberStatusChanged['to'],
  ): EventEnvelope<MemberStatusChanged> {
    return createEnvelope<MemberStatusChanged>({
      type: EventType.MemberStatusChanged,
      source: 'member',
      subject: memberId,
      data: { memberId, from, to, changedAt: new Date().toISOString() },
    });
  },
  /** A `member.erased` of `memberId`, now: consumers erase what they hold about the member. */
  erased(memberId: string, overrides: Partial<MemberErased> = {}): EventEnvelope<MemberErased> {
    return createEnvelope<MemberErased>({
      type: EventType.MemberErased,
      source: 'member',
      subject: memberId,
      data: { memberId, erasedAt: new Date().toISOString(), ...overrides },
    });
  },
  /** A `member.profile_completed` of `memberId`, now. */
  profileCompleted(memberId: string, overrides: Partial<MemberProfileCompleted> = {}): EventEnvelope<MemberProfileCompleted> {
    return createEnvelope<MemberProfileCompleted>({
      type: EventType.MemberProfileCompleted,
      source: 'member',
      subject: memberId,
      data: { memberId, completedAt: new Date().toISOString(), ...overrides },
    });
  },
  /** A `member.consents_changed` of `memberId`: by default MARKETING by SMS granted under policy v1, now. */
  consentsChanged(memberId: string, consents: MemberConsentsChanged['consents'] = [{ purpose: 'MARKETING', channel: 'SMS', granted: true, policyVersion: 'v1' }]): EventEnvelope<MemberConsentsChanged> {
    return createEnvelope<MemberConsentsChanged>({
      type: EventType.MemberConsentsChanged,
      source: 'member',
      subject: memberId,
      data: { memberId, consents, changedAt: new Date().toISOString() },
    });
  },
  /** A `member.tags_changed` with the complete RULE tag set of `memberId`, as analytics publishes it, now. */
  ruleTagsChanged(memberId: string, tags: string[], overrides: Partial<MemberTagsChanged> = {}): EventEnvelope<MemberTagsChanged> {
    return createEnvelope<MemberTagsChanged>({
      type: EventType.MemberTagsChanged,
      source: 'analytics',
      subject: memberId,
      data: { memberId, source: 'RULE', tags, changedAt: new Date().toISOString(), ...overrides },
    });
  },
};
