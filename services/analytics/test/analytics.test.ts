import { beforeAll, describe, expect, it } from 'vitest';
import { Role, STREAMS, newId, type EventEnvelope } from '@membergraph/platform';
import { gql, itHasCompleteMigrations, memberEvents, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('analytics', createApp, { probe: STREAMS.member });
const CONSUMER = 'analytics-member';
let analyst: string;

const INSIGHTS = `query($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on Member { id insights { orderCount totalSpend lastOrderAt registeredAt } } }
}`;

interface Insights {
  orderCount: number;
  totalSpend: number;
  lastOrderAt: string | null;
  registeredAt: string | null;
}

function insightsQuery(memberId: string, token?: string) {
  return gql<{ _entities: Array<{ id: string; insights: Insights }> }>(svc.url, INSIGHTS, { reps: [{ __typename: 'Member', id: memberId }] }, token);
}
async function insightsOf(memberId: string): Promise<Insights> {
  const res = await insightsQuery(memberId, analyst);
  expect(res.errors).toBeUndefined();
  return res.data!._entities[0]!.insights;
}

const registered = (memberId: string, registeredAt: string) => memberEvents.registered(memberId, { registeredAt });
const completed = (memberId: string, amount: number, completedAt: string) => memberEvents.orderCompleted(memberId, amount, { completedAt });

/** Publishes the envelopes in this order and waits until analytics has applied all of them. */
async function deliver(...events: EventEnvelope[]) {
  let last = 0;
  for (const e of events) last = await svc.probe.publish(e);
  await svc.probe.consumed(CONSUMER, last);
}

beforeAll(async () => {
  analyst = await tokenFor([Role.ANALYST]);
});

itHasCompleteMigrations(svc);

describe('Member.insights', () => {
  it('shows zeros and nulls for a member nothing is known about', async () => {
    expect(await insightsOf(newId())).toEqual({ orderCount: 0, totalSpend: 0, lastOrderAt: null, registeredAt: null });
  });

  it('counts orders and spend, keeping the later order last even when it is delivered first', async () => {
    const memberId = newId();
    await deliver(
      registered(memberId, '2026-03-01T08:00:00.000Z'),
      completed(memberId, 20000, '2026-03-05T12:00:00.000Z'),
      completed(memberId, 12850, '2026-03-02T09:30:00.000Z'),
    );
    expect(await insightsOf(memberId)).toEqual({
      orderCount: 2,
      totalSpend: 32850,
      lastOrderAt: '2026-03-05T12:00:00.000Z',
      registeredAt: '2026-03-01T08:00:00.000Z',
    });
    const [row] = await svc.app.kit.ds.query('SELECT channel, first_order_at FROM member_fact WHERE member_id = ?', [memberId]);
    expect(row.channel).toBe('STORE');
    expect(new Date(row.first_order_at).toISOString()).toBe('2026-03-02T09:30:00.000Z');
  });

  it('counts a redelivered order event once', async () => {
    const memberId = newId();
    const order = completed(memberId, 999, '2026-04-01T10:00:00.000Z');
    await deliver(order);
    // Same envelope under another msgID, so JetStream's dedupe cannot hide it: the inbox must.
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(order, `${order.id}-redelivered`));
    expect(await insightsOf(memberId)).toMatchObject({ orderCount: 1, totalSpend: 999 });
  });

  it('accepts an order that arrives before its member\'s registration', async () => {
    const memberId = newId();
    await deliver(completed(memberId, 4200, '2026-04-02T10:00:00.000Z'));
    expect(await insightsOf(memberId)).toEqual({ orderCount: 1, totalSpend: 4200, lastOrderAt: '2026-04-02T10:00:00.000Z', registeredAt: null });
    await deliver(registered(memberId, '2026-04-02T09:00:00.000Z'));
    expect(await insightsOf(memberId)).toEqual({
      orderCount: 1,
      totalSpend: 4200,
      lastOrderAt: '2026-04-02T10:00:00.000Z',
      registeredAt: '2026-04-02T09:00:00.000Z',
    });
  });

  it('answers for several members in one request', async () => {
    const [a, b] = [newId(), newId()];
    await deliver(completed(a, 100, '2026-04-03T10:00:00.000Z'), completed(b, 200, '2026-04-03T11:00:00.000Z'));
    const res = await gql(svc.url, INSIGHTS, { reps: [a, b, newId()].map((id) => ({ __typename: 'Member', id })) }, analyst);
    expect(res.data._entities.map((m: { insights: Insights }) => m.insights.totalSpend)).toEqual([100, 200, 0]);
  });
});

describe('access', () => {
  const memberId = newId();

  it('lets a member read their own insights and no one else\'s', async () => {
    const self = await tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });
    const other = await tokenFor([Role.MEMBER], { kind: 'member', sub: newId() });
    expect((await insightsQuery(memberId, self)).data!._entities[0]!.insights.orderCount).toBe(0);
    expect((await insightsQuery(memberId, other)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses anonymous callers with UNAUTHENTICATED', async () => {
    expect((await insightsQuery(memberId)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('admits staff readers and clients holding members:read, nobody else', async () => {
    const support = await tokenFor([Role.SUPPORT]);
    const reader = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'crm', scopes: ['members:read'] });
    const writer = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'erp', scopes: ['orders:write'] });
    expect((await insightsQuery(memberId, support)).errors).toBeUndefined();
    expect((await insightsQuery(memberId, reader)).errors).toBeUndefined();
    expect((await insightsQuery(memberId, writer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
