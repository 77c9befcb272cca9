import { describe, expect, it } from 'vitest';
import { PointsRpc, type HoldPointsRequest, type PointsHoldReply } from '@membergraph/contracts';
import { STREAMS, Role, callRequest, newId } from '@membergraph/platform';
import { eventually, gql, memberEvents, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { auditPoints } from '../src/services/points-audit.service';
import { creditPoints } from '../src/services/points-ledger.service';

// The sweeper ticks fast here so a hold with a one-second ttl visibly releases itself.
const svc = serviceUnderTest('points', createApp, { probe: STREAMS.member, probeName: 'points-holds-test', env: { HOLD_SWEEP_INTERVAL_MS: '200', DAILY_JOBS_CHECK_INTERVAL_MS: '0' } });
const CONSUMER = 'points-member';
const DAY = 86_400_000;

const HOLD = `mutation($input: HoldPointsInput!) { holdPoints(input: $input) { id memberId amount reference status expiresAt resolvedAt } }`;
const CAPTURE = `mutation($input: ResolvePointsHoldInput!) { capturePointsHold(input: $input) { id status resolvedAt } }`;
const RELEASE = `mutation($input: ResolvePointsHoldInput!) { releasePointsHold(input: $input) { id status resolvedAt } }`;
const EXPIRE_HOLDS = `mutation($asOf: DateTime!) { runHoldExpiry(asOf: $asOf) { runId holdsExpired pointsReleased } }`;
const ADJUST = `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { id balanceAfter } }`;
const POINTS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { points {
  balance held available history(first: 50) { edges { node { type amount held balanceAfter reason reference } } } } } } }`;

const code = (res: { errors?: Array<{ extensions?: { code?: string } }> }) => res.errors?.[0]?.extensions?.code;
const client = (sub: string, scopes = ['points:hold']) => tokenFor([Role.INTEGRATION], { kind: 'client', sub, scopes });
const admin = () => tokenFor([Role.ADMIN], { sub: 'admin-1' });

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return svc.app.kit.ds.query(query, params);
}

/** A member with credits of `amounts` earned `daysAgo` days ago (so their lots expire in that order, oldest first). */
async function memberWithLots(lots: Array<{ amount: number; daysAgo: number }>): Promise<string> {
  const memberId = newId();
  for (const [i, l] of lots.entries()) {
    await svc.app.kit.uow((em) =>
      creditPoints(svc.app.kit, em, {
        memberId,
        type: 'EARN',
        amount: l.amount,
        reason: 'ORDER',
        reference: `o${i}`,
        idempotencyKey: `seed:${memberId}:${i}`,
        at: new Date(Date.now() - l.daysAgo * DAY),
      }),
    );
  }
  return memberId;
}

async function account(memberId: string) {
  const [row] = await sql<{ balance: string; held: string }>('SELECT balance, held FROM points_account WHERE member_id = ?', [memberId]);
  const balance = Number(row?.balance ?? 0);
  const held = Number(row?.held ?? 0);
  return { balance, held, available: balance - held };
}

async function lotsOf(memberId: string): Promise<Array<{ amount: number; remaining: number; expiresAt: string }>> {
  const rows = await sql<{ amount: string; remaining: string; expires_at: Date }>(
    'SELECT amount, remaining, expires_at FROM points_lot WHERE member_id = ? ORDER BY expires_at, earned_at',
    [memberId],
  );
  return rows.map((r) => ({ amount: Number(r.amount), remaining: Number(r.remaining), expiresAt: new Date(r.expires_at).toISOString() }));
}

const rpc = {
  hold: (req: HoldPointsRequest) => callRequest<HoldPointsRequest, PointsHoldReply>(svc.probe.bus, PointsRpc.Hold, req),
  capture: (holdId: string) => callRequest<{ holdId: string }, PointsHoldReply>(svc.probe.bus, PointsRpc.Capture, { holdId }),
  release: (holdId: string) => callRequest<{ holdId: string }, PointsHoldReply>(svc.probe.bus, PointsRpc.Release, { holdId }),
};
const withCode = (c: string) => ({ extensions: expect.objectContaining({ code: c }) });

async function memberIsClean(memberId: string) {
  const audit = await auditPoints(svc.app.kit.ds.manager);
  expect(audit.differences.filter((d) => d.memberId === memberId)).toEqual([]);
}

describe('holds over NATS request/reply', () => {
  it('reserves points FIFO from the lots: balance unchanged, held up, available down', async () => {
    const memberId = await memberWithLots([{ amount: 50, daysAgo: 10 }, { amount: 30, daysAgo: 300 }]);
    const before = Date.now();
    const hold = await rpc.hold({ memberId, amount: 40, reference: 'pay-1', idempotencyKey: `h-${memberId}` });
    expect(hold).toMatchObject({ memberId, amount: 40, status: 'HELD' });
    // Default HOLD_TTL_SECONDS: 15 minutes.
    expect(new Date(hold.expiresAt).getTime()).toBeGreaterThanOrEqual(before + 900_000);
    expect(await account(memberId)).toEqual({ balance: 80, held: 40, available: 40 });
    expect((await lotsOf(memberId)).map((l) => l.remaining)).toEqual([0, 40]);
    const res = await gql(svc.url, POINTS, { reps: [{ __typename: 'Member', id: memberId }] }, await tokenFor([Role.MEMBER], { kind: 'member', sub: memberId }));
    expect(res.errors).toBeUndefined();
    const points = res.data._entities[0].points;
    expect({ balance: points.balance, held: points.held, available: points.available }).toEqual({ balance: 80, held: 40, available: 40 });
    expect(points.history.edges[0].node).toEqual({ type: 'HOLD', amount: 0, held: 40, balanceAfter: 80, reason: 'PAYMENT', reference: hold.holdId });
    await memberIsClean(memberId);
  });

  it('captures exactly the reserved points once; capturing again repeats the answer, releasing after it is CONFLICT', async () => {
    const memberId = await memberWithLots([{ amount: 50, daysAgo: 10 }, { amount: 30, daysAgo: 300 }]);
    const hold = await rpc.hold({ memberId, amount: 40, reference: 'pay-2', idempotencyKey: `c-${memberId}` });
    // Earned after the hold, expiring sooner than the reserved lot: the capture still spends the reserved lots.
    await svc.app.kit.uow((em) =>
      creditPoints(svc.app.kit, em, { memberId, type: 'EARN', amount: 5, reason: 'ORDER', reference: 'late', idempotencyKey: `late:${memberId}`, at: new Date(Date.now() - 330 * DAY) }),
    );
    const captured = await rpc.capture(hold.holdId);
    expect(captured).toMatchObject({ holdId: hold.holdId, status: 'CAPTURED', amount: 40 });
    expect(await rpc.capture(hold.holdId)).toEqual(captured);
    await expect(rpc.release(hold.holdId)).rejects.toMatchObject(withCode('CONFLICT'));
    expect(await account(memberId)).toEqual({ balance: 45, held: 0, available: 45 });
    expect((await lotsOf(memberId)).map((l) => [l.amount, l.remaining])).toEqual([
      [5, 5],
      [30, 0],
      [50, 40],
    ]);
    const entries = await sql<{ type: string; amount: string; held: string }>("SELECT type, amount, held FROM points_entry WHERE member_id = ? AND reference = ? ORDER BY id", [memberId, hold.holdId]);
    expect(entries.map((e) => [e.type, Number(e.amount), Number(e.held)])).toEqual([
      ['HOLD', 0, 40],
      ['CAPTURE', -40, -40],
    ]);
    await memberIsClean(memberId);
  });

  it('releases the points back to the same lots with their original expiry, once; capturing after it is CONFLICT', async () => {
    const memberId = await memberWithLots([{ amount: 50, daysAgo: 10 }, { amount: 30, daysAgo: 300 }]);
    const lotsBefore = await lotsOf(memberId);
    const hold = await rpc.hold({ memberId, amount: 60, reference: 'pay-3', idempotencyKey: `r-${memberId}` });
    expect((await lotsOf(memberId)).map((l) => l.remaining)).toEqual([0, 20]);
    const released = await rpc.release(hold.holdId);
    expect(released.status).toBe('RELEASED');
    expect(await rpc.release(hold.holdId)).toEqual(released);
    await expect(rpc.capture(hold.holdId)).rejects.toMatchObject(withCode('CONFLICT'));
    expect(await lotsOf(memberId)).toEqual(lotsBefore);
    expect(await account(memberId)).toEqual({ balance: 80, held: 0, available: 80 });
    await memberIsClean(memberId);
  });

  it('holds only available points: INSUFFICIENT_FUNDS, nothing written; held points cannot be adjusted away', async () => {
    const memberId = await memberWithLots([{ amount: 100, daysAgo: 1 }]);
    await rpc.hold({ memberId, amount: 70, reference: 'pay-4', idempotencyKey: `i1-${memberId}` });
    await expect(rpc.hold({ memberId, amount: 31, reference: 'pay-5', idempotencyKey: `i2-${memberId}` })).rejects.toMatchObject(withCode('INSUFFICIENT_FUNDS'));
    expect(await sql('SELECT 1 FROM idempotency_key WHERE idem_key = ?', [`i2-${memberId}`])).toEqual([]);
    const adjust = await gql(svc.url, ADJUST, { input: { memberId, delta: -31, reason: 'r', idempotencyKey: `a-${memberId}` } }, await tokenFor([Role.SUPPORT]));
    expect(code(adjust)).toBe('INSUFFICIENT_FUNDS');
    expect(await account(memberId)).toEqual({ balance: 100, held: 70, available: 30 });
  });

  it('returns the first hold for the same key and input, CONFLICT for another input, and checks its input', async () => {
    const memberId = await memberWithLots([{ amount: 100, daysAgo: 1 }]);
    const req = { memberId, amount: 10, reference: 'pay-6', idempotencyKey: `k-${memberId}` };
    const first = await rpc.hold(req);
    expect(await rpc.hold(req)).toEqual(first);
    await expect(rpc.hold({ ...req, amount: 11 })).rejects.toMatchObject(withCode('CONFLICT'));
    expect(await account(memberId)).toMatchObject({ held: 10 });
    for (const bad of [{ ...req, amount: 0 }, { ...req, amount: 1.5 }, { ...req, reference: '' }, { ...req, ttlSeconds: 86_401 }, { memberId }]) {
      await expect(rpc.hold(bad as HoldPointsRequest)).rejects.toMatchObject(withCode('BAD_USER_INPUT'));
    }
    await expect(rpc.hold({ ...req, memberId: newId(), idempotencyKey: `nf-${memberId}` })).rejects.toMatchObject(withCode('NOT_FOUND'));
    await expect(rpc.capture(newId())).rejects.toMatchObject(withCode('NOT_FOUND'));
    await expect(rpc.release('')).rejects.toMatchObject(withCode('BAD_USER_INPUT'));
  });
});

describe('hold expiry', () => {
  it('releases unresolved holds at or before asOf (EXPIRED, points back to their lots), safe to re-run; an expired hold cannot be captured', async () => {
    const memberId = await memberWithLots([{ amount: 40, daysAgo: 5 }, { amount: 60, daysAgo: 1 }]);
    const a = await rpc.hold({ memberId, amount: 50, reference: 'pay-7', idempotencyKey: `e1-${memberId}`, ttlSeconds: 3600 });
    const b = await rpc.hold({ memberId, amount: 20, reference: 'pay-8', idempotencyKey: `e2-${memberId}`, ttlSeconds: 3600 });
    const c = await rpc.hold({ memberId, amount: 5, reference: 'pay-9', idempotencyKey: `e3-${memberId}`, ttlSeconds: 7200 });
    await rpc.capture(b.holdId);
    const asOf = new Date(Date.now() + 3_700_000).toISOString();
    const token = await admin();
    const run = await gql(svc.url, EXPIRE_HOLDS, { asOf }, token);
    expect(run.errors).toBeUndefined();
    expect(run.data.runHoldExpiry.holdsExpired).toBeGreaterThanOrEqual(1);
    const statuses = await sql<{ id: string; status: string }>('SELECT id, status FROM points_hold WHERE member_id = ? ORDER BY id', [memberId]);
    expect(statuses.map((s) => [s.id, s.status])).toEqual([
      [a.holdId, 'EXPIRED'],
      [b.holdId, 'CAPTURED'],
      [c.holdId, 'HELD'],
    ]);
    expect(await account(memberId)).toEqual({ balance: 80, held: 5, available: 75 });
    // a took 40 + 10, b 20 and c 5 from the second lot; a's 40 + 10 came back where they were taken.
    expect((await lotsOf(memberId)).map((l) => l.remaining)).toEqual([40, 35]);
    const [release] = await sql<{ reason: string; operator: string; held: string }>("SELECT reason, operator, held FROM points_entry WHERE type = 'RELEASE' AND reference = ?", [a.holdId]);
    expect(release).toMatchObject({ reason: 'HOLD_EXPIRED', operator: 'admin-1' });
    expect(Number(release?.held)).toBe(-50);
    expect((await gql(svc.url, EXPIRE_HOLDS, { asOf }, token)).data.runHoldExpiry).toMatchObject({ holdsExpired: 0, pointsReleased: 0 });
    await expect(rpc.capture(a.holdId)).rejects.toMatchObject(withCode('CONFLICT'));
    expect((await rpc.release(a.holdId)).status).toBe('EXPIRED');
    expect(code(await gql(svc.url, EXPIRE_HOLDS, { asOf }, await tokenFor([Role.SUPPORT])))).toBe('FORBIDDEN');
    await memberIsClean(memberId);
  });

  it('lets the sweeper release a hold nobody resolved', async () => {
    const memberId = await memberWithLots([{ amount: 30, daysAgo: 1 }]);
    const hold = await rpc.hold({ memberId, amount: 30, reference: 'pay-10', idempotencyKey: `s-${memberId}`, ttlSeconds: 1 });
    await eventually(async () => {
      const [row] = await sql<{ status: string }>('SELECT status FROM points_hold WHERE id = ?', [hold.holdId]);
      expect(row?.status).toBe('EXPIRED');
    });
    expect(await account(memberId)).toEqual({ balance: 30, held: 0, available: 30 });
    const [release] = await sql<{ operator: string }>("SELECT operator FROM points_entry WHERE type = 'RELEASE' AND reference = ?", [hold.holdId]);
    expect(release?.operator).toBe('system:hold-sweeper');
    await memberIsClean(memberId);
  });
});

describe('holds over GraphQL', () => {
  it('is for clients with scope points:hold and ADMIN; a client resolves only its own holds', async () => {
    const memberId = await memberWithLots([{ amount: 100, daysAgo: 1 }]);
    const input = { memberId, amount: 10, reference: 'pos-1', idempotencyKey: 'same-key' };
    expect(code(await gql(svc.url, HOLD, { input }))).toBe('UNAUTHENTICATED');
    expect(code(await gql(svc.url, HOLD, { input }, await client('pos-x', ['members:read'])))).toBe('FORBIDDEN');
    expect(code(await gql(svc.url, HOLD, { input }, await tokenFor([Role.SUPPORT, Role.FINANCE])))).toBe('FORBIDDEN');
    expect(code(await gql(svc.url, HOLD, { input }, await tokenFor([Role.MEMBER], { kind: 'member', sub: memberId })))).toBe('FORBIDDEN');

    const posA = await client('pos-a');
    const posB = await client('pos-b');
    const a = await gql(svc.url, HOLD, { input }, posA);
    expect(a.errors).toBeUndefined();
    expect(a.data.holdPoints).toMatchObject({ memberId, amount: 10, reference: 'pos-1', status: 'HELD', resolvedAt: null });
    // The same key from another client is another hold: keys are per caller.
    const b = await gql(svc.url, HOLD, { input }, posB);
    expect(b.data.holdPoints.id).not.toBe(a.data.holdPoints.id);
    expect((await gql(svc.url, HOLD, { input }, posA)).data.holdPoints.id).toBe(a.data.holdPoints.id);

    const holdId = a.data.holdPoints.id;
    expect(code(await gql(svc.url, CAPTURE, { input: { holdId } }, posB))).toBe('NOT_FOUND');
    const captured = await gql(svc.url, CAPTURE, { input: { holdId } }, posA);
    expect(captured.data.capturePointsHold).toMatchObject({ id: holdId, status: 'CAPTURED' });
    expect(code(await gql(svc.url, RELEASE, { input: { holdId } }, posA))).toBe('CONFLICT');
    const released = await gql(svc.url, RELEASE, { input: { holdId: b.data.holdPoints.id } }, await admin());
    expect(released.data.releasePointsHold.status).toBe('RELEASED');
    expect(await account(memberId)).toEqual({ balance: 90, held: 0, available: 90 });
  });

  it('rejects bad input with BAD_USER_INPUT naming the field, nothing written', async () => {
    const memberId = await memberWithLots([{ amount: 100, daysAgo: 1 }]);
    const token = await client('pos-c');
    const base = { memberId, amount: 10, reference: 'pos-2', idempotencyKey: `bad-${memberId}` };
    for (const [field, value] of [['amount', 0], ['amount', -3], ['reference', ' '], ['idempotencyKey', 'x'.repeat(101)], ['ttlSeconds', 0], ['memberId', 'x'.repeat(27)]] as const) {
      const res = await gql(svc.url, HOLD, { input: { ...base, [field]: value } }, token);
      expect(code(res)).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions).toMatchObject({ field });
    }
    expect(code(await gql(svc.url, CAPTURE, { input: { holdId: ' ' } }, token))).toBe('BAD_USER_INPUT');
    expect(await account(memberId)).toEqual({ balance: 100, held: 0, available: 100 });
    expect(await sql('SELECT 1 FROM points_hold WHERE member_id = ?', [memberId])).toEqual([]);
  });
});

describe('concurrency', () => {
  it('50 concurrent holds and adjustments on one account never overspend and lose no update', async () => {
    const memberId = await memberWithLots([{ amount: 120, daysAgo: 30 }, { amount: 180, daysAgo: 2 }]);
    const support = await tokenFor([Role.SUPPORT]);
    // 25 holds and 25 debits of 10 against 300 available: exactly 30 succeed, whichever they are.
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0
          ? rpc.hold({ memberId, amount: 10, reference: `race-${i}`, idempotencyKey: `race-${memberId}-${i}` }).then(() => 'hold' as const)
          : gql(svc.url, ADJUST, { input: { memberId, delta: -10, reason: 'race', idempotencyKey: `race-${memberId}-${i}` } }, support).then((r) => {
              if (r.errors) throw Object.assign(new Error(r.errors[0]!.message), { extensions: r.errors[0]!.extensions });
              return 'adjust' as const;
            }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<'hold' | 'adjust'>).value);
    const failed = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    expect(ok).toHaveLength(30);
    expect(failed.every((e) => e.extensions?.code === 'INSUFFICIENT_FUNDS')).toBe(true);
    const holds = ok.filter((k) => k === 'hold').length;
    const adjusts = ok.filter((k) => k === 'adjust').length;
    expect(await account(memberId)).toEqual({ balance: 300 - 10 * adjusts, held: 10 * holds, available: 0 });
    expect((await lotsOf(memberId)).map((l) => l.remaining)).toEqual([0, 0]);

    // Then resolve them all at once, each twice: every hold ends captured or released exactly once.
    const ids = (await sql<{ id: string }>("SELECT id FROM points_hold WHERE member_id = ? AND status = 'HELD' ORDER BY id", [memberId])).map((r) => r.id);
    await Promise.all(ids.flatMap((id, i) => (i % 2 ? [rpc.capture(id), rpc.capture(id)] : [rpc.release(id), rpc.release(id)])));
    const captured = Math.floor(ids.length / 2);
    expect(await account(memberId)).toEqual({ balance: 300 - 10 * adjusts - 10 * captured, held: 0, available: 300 - 10 * adjusts - 10 * captured });
    expect(await sql("SELECT 1 FROM points_entry WHERE member_id = ? AND type IN ('CAPTURE', 'RELEASE')", [memberId])).toHaveLength(ids.length);
    await memberIsClean(memberId);
  });
});

describe('member status', () => {
  it('refuses holds and negative adjustments for a FROZEN member (FORBIDDEN) and allows them again once ACTIVE', async () => {
    const memberId = await memberWithLots([{ amount: 100, daysAgo: 1 }]);
    const open = await rpc.hold({ memberId, amount: 10, reference: 'pay-f0', idempotencyKey: `f0-${memberId}` });
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(memberEvents.statusChanged(memberId, 'ACTIVE', 'FROZEN')));
    await expect(rpc.hold({ memberId, amount: 10, reference: 'pay-f1', idempotencyKey: `f1-${memberId}` })).rejects.toMatchObject(withCode('FORBIDDEN'));
    const support = await tokenFor([Role.SUPPORT]);
    expect(code(await gql(svc.url, ADJUST, { input: { memberId, delta: -5, reason: 'r', idempotencyKey: `f2-${memberId}` } }, support))).toBe('FORBIDDEN');
    // Compensation still goes in, and a hold made before the freeze can still be resolved.
    expect(code(await gql(svc.url, ADJUST, { input: { memberId, delta: 5, reason: 'r', idempotencyKey: `f3-${memberId}` } }, support))).toBeUndefined();
    expect((await rpc.capture(open.holdId)).status).toBe('CAPTURED');
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(memberEvents.statusChanged(memberId, 'FROZEN', 'ACTIVE')));
    expect((await rpc.hold({ memberId, amount: 10, reference: 'pay-f4', idempotencyKey: `f4-${memberId}` })).status).toBe('HELD');
  });
});
