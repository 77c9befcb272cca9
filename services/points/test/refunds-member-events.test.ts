import { describe, expect, it } from 'vitest';
import { STREAMS, Role, newId, type EventEnvelope } from '@membergraph/platform';
import { gql, memberEvents, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { auditPoints } from '../src/services/points-audit.service';
import { recordRefund } from '../src/services/points-refund.service';
import { RPC_CALLER, holdPoints, releaseHold } from '../src/services/points-hold.service';

const svc = serviceUnderTest('points', createApp, { probe: STREAMS.member, probeName: 'points-refunds-test' });
const CONSUMER = 'points-member';
const { orderCompleted, orderRefunded, tierChanged, statusChanged, registered } = memberEvents;

const ADJUST = `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { id balanceAfter } }`;
const POINTS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { points { balance held available } } } }`;
const code = (res: { errors?: Array<{ extensions?: { code?: string } }> }) => res.errors?.[0]?.extensions?.code;

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return svc.app.kit.ds.query(query, params);
}

/** Publishes the events in order and waits until the consumer has applied the last. */
async function deliver(...events: EventEnvelope[]): Promise<void> {
  let seq = 0;
  for (const e of events) seq = await svc.probe.publish(e);
  await svc.probe.consumed(CONSUMER, seq);
}

async function ledger(memberId: string) {
  const entries = await sql<{ type: string; amount: string; reason: string; reference: string | null }>(
    'SELECT type, amount, reason, reference FROM points_entry WHERE member_id = ? ORDER BY id',
    [memberId],
  );
  const [account] = await sql<{ balance: string; held: string }>('SELECT balance, held FROM points_account WHERE member_id = ?', [memberId]);
  return { entries: entries.map((e) => [e.type, Number(e.amount), e.reason, e.reference]), balance: Number(account?.balance ?? 0) };
}

async function lots(memberId: string) {
  const rows = await sql<{ amount: string; remaining: string }>('SELECT amount, remaining FROM points_lot WHERE member_id = ? ORDER BY expires_at, earned_at, id', [memberId]);
  return rows.map((r) => [Number(r.amount), Number(r.remaining)]);
}

async function memberIsClean(memberId: string) {
  const audit = await auditPoints(svc.app.kit.ds.manager);
  expect(audit.differences.filter((d) => d.memberId === memberId)).toEqual([]);
}

describe('order.refunded', () => {
  it('takes back the earning in proportion, cumulatively: 128 points, refunds of 5000 then 7850 of 12850 fen -> 49 then 79', async () => {
    const memberId = newId();
    const order = orderCompleted(memberId, 12850);
    const { orderId } = order.data;
    await deliver(order, orderRefunded(memberId, orderId, 5000, 12850));
    expect((await ledger(memberId)).balance).toBe(79);
    await deliver(orderRefunded(memberId, orderId, 7850, 12850, { refundedTotal: 12850 }));
    const l = await ledger(memberId);
    expect(l.entries).toEqual([
      ['EARN', 128, 'ORDER', orderId],
      ['REVERSE', -49, 'REFUND', orderId],
      ['REVERSE', -79, 'REFUND', orderId],
    ]);
    expect(l.balance).toBe(0);
    await memberIsClean(memberId);
  });

  it("takes from the order's own lot first", async () => {
    const memberId = newId();
    const first = orderCompleted(memberId, 3000, { completedAt: new Date(Date.now() - 100 * 86_400_000).toISOString() });
    const second = orderCompleted(memberId, 5000);
    await deliver(first, second, orderRefunded(memberId, second.data.orderId, 2500, 5000));
    // 30 (first order, expiring first) untouched; 25 of the second order's 50 taken back.
    expect(await lots(memberId)).toEqual([
      [30, 30],
      [50, 25],
    ]);
    await memberIsClean(memberId);
  });

  it('goes into debt when the points were spent, and later earnings repay the debt first', async () => {
    const memberId = newId();
    const a = orderCompleted(memberId, 10000, { completedAt: new Date(Date.now() - 10 * 86_400_000).toISOString() });
    const b = orderCompleted(memberId, 5000);
    await deliver(registered(memberId), a, b);
    // Welcome 100 + 100 + 50 = 250; spend 220.
    const support = await tokenFor([Role.SUPPORT]);
    expect(code(await gql(svc.url, ADJUST, { input: { memberId, delta: -220, reason: 'spent', idempotencyKey: `spend-${memberId}` } }, support))).toBeUndefined();
    await deliver(orderRefunded(memberId, a.data.orderId, 10000, 10000));
    // 30 left in lots, 100 to take back: 30 from the lots, 70 owed.
    expect((await ledger(memberId)).balance).toBe(-70);
    const token = await tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });
    const points = async () => (await gql(svc.url, POINTS, { reps: [{ __typename: 'Member', id: memberId }] }, token)).data._entities[0].points;
    expect(await points()).toEqual({ balance: -70, held: 0, available: -70 });
    expect(await lots(memberId)).toEqual([
      [100, 0],
      [100, 0],
      [50, 0],
    ]);
    expect(code(await gql(svc.url, ADJUST, { input: { memberId, delta: -1, reason: 'x', idempotencyKey: `debt-${memberId}` } }, support))).toBe('INSUFFICIENT_FUNDS');
    await memberIsClean(memberId);

    // 128 new points: 70 repay the debt, 58 are spendable.
    await deliver(orderCompleted(memberId, 12850));
    expect(await points()).toEqual({ balance: 58, held: 0, available: 58 });
    expect((await lots(memberId)).at(-1)).toEqual([128, 58]);
    const [refund] = await sql<{ status: string; due: string; reversed: string; debt: string }>('SELECT status, due, reversed, debt FROM points_refund WHERE order_id = ?', [a.data.orderId]);
    expect([refund?.status, Number(refund?.due), Number(refund?.reversed), Number(refund?.debt)]).toEqual(['APPLIED', 100, 100, 70]);
    await memberIsClean(memberId);
  });

  it('repays a debt from points a released hold gives back', async () => {
    const memberId = newId();
    const order = orderCompleted(memberId, 10000);
    await deliver(order);
    const kit = svc.app.kit;
    const hold = await kit.uow((em) => holdPoints(kit, em, RPC_CALLER, { memberId, amount: 80, reference: 'pay', idempotencyKey: `d-${memberId}` }));
    // 20 left in the lot, 50 due: 20 taken, 30 owed while 80 are on hold.
    await deliver(orderRefunded(memberId, order.data.orderId, 5000, 10000));
    expect(await ledger(memberId)).toMatchObject({ balance: 50 });
    await memberIsClean(memberId);
    await kit.uow((em) => releaseHold(kit, em, RPC_CALLER, hold.id));
    expect(await lots(memberId)).toEqual([[100, 50]]);
    await memberIsClean(memberId);
  });

  it('parks a refund that arrives before its order and applies it when the order earns', async () => {
    const memberId = newId();
    const order = orderCompleted(memberId, 20000);
    const refund = orderRefunded(memberId, order.data.orderId, 5000, 20000);
    await deliver(refund);
    const parked = await sql<{ status: string }>('SELECT status FROM points_refund WHERE refund_id = ?', [refund.data.refundId]);
    expect(parked.map((r) => r.status)).toEqual(['PARKED']);
    expect((await ledger(memberId)).balance).toBe(0);
    await deliver(order);
    const l = await ledger(memberId);
    expect(l.entries).toEqual([
      ['EARN', 200, 'ORDER', order.data.orderId],
      ['REVERSE', -50, 'REFUND', order.data.orderId],
    ]);
    expect(l.balance).toBe(150);
    await memberIsClean(memberId);
  });

  it('applies a refund once per refund id, whatever event carries it', async () => {
    const memberId = newId();
    const order = orderCompleted(memberId, 10000);
    const refund = orderRefunded(memberId, order.data.orderId, 1000, 10000);
    const copy = { ...refund, id: newId() };
    await deliver(order, refund, copy);
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(refund, `${refund.id}-again`));
    expect((await ledger(memberId)).entries.filter((e) => e[0] === 'REVERSE')).toEqual([['REVERSE', -10, 'REFUND', order.data.orderId]]);
  });

  it('with CAP_AT_ZERO takes back only what is left and forgives the rest', async () => {
    const memberId = newId();
    const order = orderCompleted(memberId, 10000);
    await deliver(order);
    const support = await tokenFor([Role.SUPPORT]);
    await gql(svc.url, ADJUST, { input: { memberId, delta: -80, reason: 'spent', idempotencyKey: `cap-${memberId}` } }, support);
    const kit = svc.app.kit;
    const capped = Object.assign(Object.create(kit) as typeof kit, { config: { ...kit.config, REFUND_POLICY: 'CAP_AT_ZERO' as const } });
    const refund = orderRefunded(memberId, order.data.orderId, 10000, 10000);
    const row = await kit.uow((em) => recordRefund(capped, em, refund.data));
    expect(row).toMatchObject({ status: 'APPLIED', due: 100, reversed: 20, debt: 0, forgiven: 80 });
    expect((await ledger(memberId)).balance).toBe(0);
    await memberIsClean(memberId);
  });
});

describe('member.tier_changed', () => {
  it('earns at the new tier, and an older change arriving late does not overwrite it', async () => {
    const memberId = newId();
    const now = Date.now();
    await deliver(
      registered(memberId, { registeredAt: new Date(now - 3_000).toISOString() }),
      tierChanged(memberId, 'MEMBER', 'GOLD', { changedAt: new Date(now - 1_000).toISOString() }),
      tierChanged(memberId, 'MEMBER', 'SILVER', { changedAt: new Date(now - 2_000).toISOString() }),
      orderCompleted(memberId, 10000),
    );
    const [tier] = await sql<{ tier: string }>('SELECT tier FROM points_member_tier WHERE member_id = ?', [memberId]);
    expect(tier?.tier).toBe('GOLD');
    expect((await ledger(memberId)).entries.at(-1)).toEqual(['EARN', 150, 'ORDER', expect.any(String)]);
  });
});

describe('member.status_changed', () => {
  it('writes no earning for a FROZEN, BLACKLISTED or ERASED member, and earns again once ACTIVE', async () => {
    for (const status of ['FROZEN', 'BLACKLISTED', 'ERASED'] as const) {
      const memberId = newId();
      await deliver(statusChanged(memberId, 'ACTIVE', status), registered(memberId), orderCompleted(memberId, 10000));
      expect((await ledger(memberId)).entries).toEqual([]);
    }
    const memberId = newId();
    await deliver(statusChanged(memberId, 'ACTIVE', 'FROZEN'), orderCompleted(memberId, 10000), statusChanged(memberId, 'FROZEN', 'ACTIVE'), orderCompleted(memberId, 5000));
    expect((await ledger(memberId)).entries.map((e) => e[1])).toEqual([50]);
  });
});
