import { describe, expect, it } from 'vitest';
import type { PointsExpiringSoon } from '@membergraph/contracts';
import { STREAMS, Role, decodeEnvelope, newId, type EventEnvelope } from '@membergraph/platform';
import { eventually, gql, memberEvents, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { auditPoints } from '../src/services/points-audit.service';
import { creditPoints } from '../src/services/points-ledger.service';
import { runPendingRelease } from '../src/services/points-pending.service';
import { runExpiryReminders } from '../src/services/points-reminder.service';

// A 14-day return window; no worker: releases run as steps with their own clock. Orders are capped at 300 a day.
const svc = serviceUnderTest('points', createApp, {
  probe: STREAMS.member,
  probeName: 'points-pending-test',
  env: { RETURN_WINDOW_DAYS: '14', PENDING_RELEASE_INTERVAL_MS: '0', HOLD_SWEEP_INTERVAL_MS: '0', WELCOME_POINTS: '0', POINTS_DAILY_CAPS: 'ORDER=300', DAILY_JOBS_CHECK_INTERVAL_MS: '0' },
});
const DAY = 86_400_000;
const POINTS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { points { balance available pending } } } }`;
const RELEASE = `mutation($asOf: DateTime!) { runPendingRelease(asOf: $asOf) { released cancelled points } }`;

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return svc.app.kit.ds.query(query, params);
}
async function balance(memberId: string) {
  const [row] = await sql<{ balance: string }>('SELECT balance FROM points_account WHERE member_id = ?', [memberId]);
  return Number(row?.balance ?? 0);
}
async function pending(orderId: string) {
  const [row] = await sql<{ amount: string; cancelled: string; status: string }>('SELECT amount, cancelled, status FROM points_pending WHERE order_id = ?', [orderId]);
  return row ? { amount: Number(row.amount), cancelled: Number(row.cancelled), status: row.status } : null;
}
async function entries(memberId: string) {
  const rows = await sql<{ type: string; amount: string }>('SELECT type, amount FROM points_entry WHERE member_id = ? ORDER BY id', [memberId]);
  return rows.map((r) => [r.type, Number(r.amount)]);
}
async function memberIsClean(memberId: string) {
  const audit = await auditPoints(svc.app.kit.ds.manager);
  expect(audit.differences.filter((d) => d.memberId === memberId)).toEqual([]);
}
const afterWindow = () => new Date(Date.now() + 15 * DAY);

async function completedOrder(memberId: string, amount: number) {
  const order = memberEvents.orderCompleted(memberId, amount);
  await svc.probe.publish(order);
  await eventually(async () => expect(await pending(order.data.orderId)).not.toBeNull());
  return order.data.orderId;
}

describe('pending points (RETURN_WINDOW_DAYS = 14)', () => {
  it('keeps an order\'s points pending, not spendable, until the window closes, then credits them once', async () => {
    const memberId = newId();
    const orderId = await completedOrder(memberId, 12850);
    expect(await pending(orderId)).toEqual({ amount: 128, cancelled: 0, status: 'PENDING' });
    const token = await tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });
    const read = await gql(svc.url, POINTS, { reps: [{ __typename: 'Member', id: memberId }] }, token);
    expect(read.data._entities[0].points).toEqual({ balance: 0, available: 0, pending: 128 });
    expect((await runPendingRelease(svc.app.kit, new Date(Date.now() + 13 * DAY))).released).toBe(0);
    const admin = await tokenFor([Role.ADMIN], { sub: 'admin-1' });
    const run = await gql(svc.url, RELEASE, { asOf: afterWindow().toISOString() }, admin);
    expect(run.errors).toBeUndefined();
    expect(run.data.runPendingRelease.released).toBeGreaterThanOrEqual(1);
    expect(await pending(orderId)).toMatchObject({ status: 'RELEASED' });
    expect(await balance(memberId)).toBe(128);
    expect((await runPendingRelease(svc.app.kit, afterWindow())).released).toBe(0);
    expect(await entries(memberId)).toEqual([['EARN', 128]]);
    await memberIsClean(memberId);
  });

  it('cancels the refunded share inside the window before it was spendable; a later refund reverses the rest', async () => {
    const memberId = newId();
    const orderId = await completedOrder(memberId, 10000);
    await svc.probe.publish(memberEvents.orderRefunded(memberId, orderId, 5000, 10000));
    await eventually(async () => expect(await pending(orderId)).toEqual({ amount: 100, cancelled: 50, status: 'PENDING' }));
    await runPendingRelease(svc.app.kit, afterWindow());
    expect(await balance(memberId)).toBe(50);
    await svc.probe.publish(memberEvents.orderRefunded(memberId, orderId, 5000, 10000, { refundedTotal: 10000 }));
    await eventually(async () => expect(await balance(memberId)).toBe(0));
    expect(await entries(memberId)).toEqual([
      ['EARN', 50],
      ['REVERSE', -50],
    ]);
    await memberIsClean(memberId);
  });

  it('credits nothing for an order refunded in full inside the window, even when the refund came first', async () => {
    const memberId = newId();
    const order = memberEvents.orderCompleted(memberId, 9900);
    await svc.probe.publish(memberEvents.orderRefunded(memberId, order.data.orderId, 9900, 9900));
    await eventually(async () => expect(await sql('SELECT 1 FROM points_refund WHERE order_id = ?', [order.data.orderId])).toHaveLength(1));
    await svc.probe.publish(order);
    await eventually(async () => expect(await pending(order.data.orderId)).toEqual({ amount: 99, cancelled: 99, status: 'PENDING' }));
    await runPendingRelease(svc.app.kit, afterWindow());
    expect(await pending(order.data.orderId)).toMatchObject({ status: 'CANCELLED' });
    expect(await entries(memberId)).toEqual([]);
  });

  it('caps order points per business day: the second order of the day gets what is left of ORDER=300', async () => {
    const memberId = newId();
    const first = await completedOrder(memberId, 25000);
    const second = await completedOrder(memberId, 10000);
    expect(await pending(first)).toMatchObject({ amount: 250 });
    expect(await pending(second)).toMatchObject({ amount: 50 });
    const [award] = await sql<{ requested: string; granted: string; capped_by: string }>('SELECT requested, granted, capped_by FROM points_award WHERE reference = ?', [second]);
    expect({ requested: Number(award!.requested), granted: Number(award!.granted), cappedBy: award!.capped_by }).toEqual({ requested: 100, granted: 50, cappedBy: 'RULE' });
  });
});

async function expiringSoonEvents(memberId: string): Promise<PointsExpiringSoon[]> {
  const bus = svc.probe.bus;
  const stream = bus.streamName(STREAMS.points.name);
  const info = await bus.jsm.streams.info(stream);
  const out: PointsExpiringSoon[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await bus.jsm.streams.getMessage(stream, { seq });
    if (msg?.subject !== bus.subject('points.expiring_soon')) continue;
    const env = decodeEnvelope(msg.data) as EventEnvelope<PointsExpiringSoon>;
    if (env.data.memberId === memberId) out.push(env.data);
  }
  return out;
}

describe('points.expiring_soon', () => {
  it('reminds 30 and 7 days ahead, once per lot and threshold', async () => {
    const memberId = newId();
    const now = Date.now();
    // Rolling 12 months: earned ~345 days ago expires in ~20 days, ~360 days ago in ~5, 10 days ago much later.
    for (const [i, daysAgo] of [345, 360, 10].entries()) {
      await svc.app.kit.uow((em) =>
        creditPoints(svc.app.kit, em, { memberId, type: 'EARN', amount: 10 * (i + 1), reason: 'ORDER', reference: `o${i}`, idempotencyKey: `seed:${memberId}:${i}`, at: new Date(now - daysAgo * DAY) }),
      );
    }
    const asOf = new Date(now);
    await runExpiryReminders(svc.app.kit, asOf);
    await runExpiryReminders(svc.app.kit, asOf);
    const events = await eventually(async () => {
      const e = await expiringSoonEvents(memberId);
      expect(e).toHaveLength(2);
      return e;
    });
    expect(events.map((e) => [e.daysAhead, e.amount, e.lots]).sort()).toEqual([
      [30, 10, 1],
      [7, 20, 1],
    ]);
    // 15 days on, the first lot is within 7 days: its 7-day reminder, once.
    await runExpiryReminders(svc.app.kit, new Date(now + 15 * DAY));
    await runExpiryReminders(svc.app.kit, new Date(now + 16 * DAY));
    await eventually(async () => expect(await expiringSoonEvents(memberId)).toHaveLength(3));
    expect((await expiringSoonEvents(memberId)).at(-1)).toMatchObject({ daysAhead: 7, amount: 10, lots: 1 });
  });
});
