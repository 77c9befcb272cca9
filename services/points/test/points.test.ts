import { beforeAll, describe, expect, it } from 'vitest';
import type { PointsEarned } from '@membergraph/contracts';
import { STREAMS, decodeEnvelope, newId, Role, type EventEnvelope } from '@membergraph/platform';
import { eventually, gql, itHasCompleteMigrations, memberEvents, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { orderCompletedHandler } from '../src/events/handlers/order-completed.handler';
import { earnPoints } from '../src/services/points-ledger.service';

const svc = serviceUnderTest('points', createApp, { probe: STREAMS.member, probeName: 'points-test' });
const CONSUMER = 'points-member';

const POINTS = `query($reps: [_Any!]!, $first: Int, $after: String) {
  _entities(representations: $reps) {
    ... on Member { id points { balance history(first: $first, after: $after) {
      edges { cursor node { id type amount balanceAfter reason reference createdAt } }
      pageInfo { hasNextPage endCursor } } } }
  }
}`;

itHasCompleteMigrations(svc);

const { registered, orderCompleted } = memberEvents;

async function ledgerOf(memberId: string) {
  const entries: Array<{ type: string; amount: string; reason: string; reference: string | null }> = await svc.app.kit.ds.query(
    'SELECT type, amount, reason, reference FROM points_entry WHERE member_id = ? ORDER BY id',
    [memberId],
  );
  const [account] = await svc.app.kit.ds.query('SELECT balance, lifetime_earned FROM points_account WHERE member_id = ?', [memberId]);
  return {
    entries: entries.map((e) => ({ ...e, amount: Number(e.amount) })),
    sum: entries.reduce((s, e) => s + Number(e.amount), 0),
    balance: account ? Number(account.balance) : 0,
    lifetimeEarned: account ? Number(account.lifetime_earned) : 0,
  };
}

async function readPoints(memberId: string, token?: string, page: { first?: number; after?: string } = {}) {
  return gql(svc.url, POINTS, { reps: [{ __typename: 'Member', id: memberId }], ...page }, token);
}

/** How many deliveries the inbox recognised as already applied. */
async function inboxDuplicates(): Promise<number> {
  const { values } = await svc.app.kit.metrics.eventsConsumed.get();
  return values.filter((v) => v.labels.outcome === 'duplicate').reduce((s, v) => s + v.value, 0);
}

const memberToken = (memberId: string) => tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });

/** Every `points.earned` event on this test's POINTS stream. */
async function earnedEvents(): Promise<Array<EventEnvelope<PointsEarned>>> {
  const bus = svc.probe.bus;
  const stream = bus.streamName(STREAMS.points.name);
  const info = await bus.jsm.streams.info(stream);
  const out: Array<EventEnvelope<PointsEarned>> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await bus.jsm.streams.getMessage(stream, { seq });
    if (msg && msg.subject === bus.subject('points.earned')) out.push(decodeEnvelope(msg.data) as EventEnvelope<PointsEarned>);
  }
  return out;
}

describe('earning from member events', () => {
  const memberId = newId();
  let orderId: string;

  it('credits the welcome bonus and one point per whole yuan: 100 + 12850 fen -> 228', async () => {
    const order = orderCompleted(memberId, 12850);
    orderId = order.data.orderId;
    await svc.probe.publish(registered(memberId));
    await svc.probe.publish(order);
    const token = await memberToken(memberId);
    const res = await eventually(async () => {
      const r = await readPoints(memberId, token);
      expect(r.errors).toBeUndefined();
      expect(r.data._entities[0].points.balance).toBe(228);
      // balance and history are two reads in one request: wait until both see the order's earning
      expect(r.data._entities[0].points.history.edges).toHaveLength(2);
      return r;
    });
    const edges = res.data._entities[0].points.history.edges;
    expect(edges.map((e: { node: unknown }) => e.node)).toMatchObject([
      { type: 'EARN', amount: 128, balanceAfter: 228, reason: 'ORDER', reference: orderId },
      { type: 'EARN', amount: 100, balanceAfter: 100, reason: 'WELCOME' },
    ]);
    const ledger = await ledgerOf(memberId);
    expect(ledger.entries).toHaveLength(2);
    expect(ledger.sum).toBe(228);
    expect(ledger.balance).toBe(228);
    expect(ledger.lifetimeEarned).toBe(228);
  });

  it('announces each earning as points.earned on the POINTS stream, with ids only', async () => {
    const events = await eventually(async () => {
      const mine = (await earnedEvents()).filter((e) => e.data.memberId === memberId);
      expect(mine).toHaveLength(2);
      return mine;
    });
    expect(events.map((e) => e.data)).toMatchObject([
      { memberId, amount: 100, balance: 100, reason: 'WELCOME' },
      { memberId, amount: 128, balance: 228, reason: 'ORDER', reference: orderId },
    ]);
    for (const e of events) expect(e).toMatchObject({ type: 'points.earned', source: 'points', subject: memberId });
  });

  it('earns once when the same event is delivered twice', async () => {
    const order = orderCompleted(memberId, 5000);
    const duplicatesBefore = await inboxDuplicates();
    await svc.probe.publish(order);
    const seq = await svc.probe.publish(order, `${order.id}-again`); // a copy JetStream cannot dedupe
    await svc.probe.consumed(CONSUMER, seq);
    expect(await inboxDuplicates()).toBe(duplicatesBefore + 1);
    const ledger = await ledgerOf(memberId);
    expect(ledger.entries.filter((e) => e.reference === order.data.orderId)).toHaveLength(1);
    expect(ledger.balance).toBe(278);
    expect(ledger.sum).toBe(ledger.balance);
  });

  it('earns once for two different events about the same order', async () => {
    const first = orderCompleted(memberId, 1000);
    const second = orderCompleted(memberId, 1000, { orderId: first.data.orderId });
    await svc.probe.publish(first);
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(second));
    const ledger = await ledgerOf(memberId);
    expect(ledger.entries.filter((e) => e.reference === first.data.orderId)).toHaveLength(1);
    expect(ledger.balance).toBe(288);
  });

  it('cannot earn twice for one order even when the inbox is bypassed', async () => {
    const handle = orderCompletedHandler(svc.app.kit);
    const order = orderCompleted(memberId, 700);
    for (const event of [order, { ...order, id: newId() }]) {
      await svc.app.kit.uow((em) => handle({ em, log: svc.app.kit.log }, event));
    }
    const ledger = await ledgerOf(memberId);
    expect(ledger.entries.filter((e) => e.reference === order.data.orderId)).toHaveLength(1);
    expect(ledger.balance).toBe(295);
    expect(ledger.sum).toBe(ledger.balance);
  });

  it('writes no entry for an order under one yuan', async () => {
    const order = orderCompleted(memberId, 99);
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(order));
    const ledger = await ledgerOf(memberId);
    expect(ledger.entries.some((e) => e.reference === order.data.orderId)).toBe(false);
    expect(ledger.balance).toBe(295);
  });
});

describe('reading points', () => {
  const memberId = newId();
  beforeAll(async () => {
    await svc.probe.publish(registered(memberId));
    for (const amount of [100, 200, 300]) await svc.probe.publish(orderCompleted(memberId, amount));
    await eventually(async () => expect((await ledgerOf(memberId)).balance).toBe(106));
  });

  it('lets a member read their own points, and staff with a read role', async () => {
    expect((await readPoints(memberId, await memberToken(memberId))).data._entities[0].points.balance).toBe(106);
    expect((await readPoints(memberId, await tokenFor([Role.SUPPORT]))).data._entities[0].points.balance).toBe(106);
    const client = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'crm', scopes: ['members:read'] });
    expect((await readPoints(memberId, client)).data._entities[0].points.balance).toBe(106);
  });

  it('refuses another member with FORBIDDEN and an anonymous caller with UNAUTHENTICATED', async () => {
    const other = await readPoints(memberId, await memberToken(newId()));
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(other.data ?? null)).not.toContain('106');
    const client = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'erp', scopes: ['orders:write'] });
    expect((await readPoints(memberId, client)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await readPoints(memberId)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers 0 and an empty history before the member has an account', async () => {
    const fresh = newId();
    const res = await readPoints(fresh, await memberToken(fresh));
    expect(res.errors).toBeUndefined();
    expect(res.data._entities[0].points).toEqual({ balance: 0, history: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } });
  });

  it('pages the history newest first', async () => {
    const token = await memberToken(memberId);
    const p1 = (await readPoints(memberId, token, { first: 2 })).data._entities[0].points.history;
    expect(p1.edges.map((e: { node: { amount: number } }) => e.node.amount)).toEqual([3, 2]);
    expect(p1.pageInfo.hasNextPage).toBe(true);
    const p2 = (await readPoints(memberId, token, { first: 2, after: p1.pageInfo.endCursor })).data._entities[0].points.history;
    expect(p2.edges.map((e: { node: { amount: number; reason: string } }) => [e.node.amount, e.node.reason])).toEqual([
      [1, 'ORDER'],
      [100, 'WELCOME'],
    ]);
    expect(p2.pageInfo.hasNextPage).toBe(false);
  });

  it('rejects a bad page size or cursor with BAD_USER_INPUT', async () => {
    const token = await memberToken(memberId);
    expect((await readPoints(memberId, token, { first: 0 })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await readPoints(memberId, token, { first: 101 })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await readPoints(memberId, token, { after: 'not-a-cursor' })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('concurrency', () => {
  it('keeps the balance exact when 20 orders for one member arrive together', async () => {
    const memberId = newId();
    const orders = Array.from({ length: 20 }, (_, i) => orderCompleted(memberId, (i + 1) * 100));
    await Promise.all(orders.map((o) => svc.probe.publish(o)));
    await eventually(async () => expect((await ledgerOf(memberId)).entries).toHaveLength(20));
    const ledger = await ledgerOf(memberId);
    expect(ledger.balance).toBe(210);
    expect(ledger.sum).toBe(210);
  });

  it('serialises 20 concurrent credits on one account: exact balance, a true running total', async () => {
    const memberId = newId();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        svc.app.kit.uow((em) =>
          earnPoints(svc.app.kit, em, { memberId, amount: i + 1, reason: 'ORDER', reference: `o${i}`, idempotencyKey: `test:${memberId}:${i}` }),
        ),
      ),
    );
    const rows: Array<{ amount: string; balance_after: string }> = await svc.app.kit.ds.query(
      'SELECT amount, balance_after FROM points_entry WHERE member_id = ? ORDER BY balance_after',
      [memberId],
    );
    let running = 0;
    for (const row of rows) {
      running += Number(row.amount);
      expect(Number(row.balance_after)).toBe(running);
    }
    expect((await ledgerOf(memberId)).balance).toBe(210);
  });
});

describe('ledger invariant', () => {
  it('publishes one points.earned per entry and every balance equals the sum of its entries', async () => {
    const [{ n }] = await svc.app.kit.ds.query('SELECT COUNT(*) AS n FROM points_entry');
    await eventually(async () => expect(await earnedEvents()).toHaveLength(Number(n)));
    const drift = await svc.app.kit.ds.query(
      `SELECT a.member_id FROM points_account a LEFT JOIN (SELECT member_id, SUM(amount) AS s FROM points_entry GROUP BY member_id) e
       ON e.member_id = a.member_id WHERE a.balance <> COALESCE(e.s, 0)`,
    );
    expect(drift).toEqual([]);
  });
});
