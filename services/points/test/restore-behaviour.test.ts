import { describe, expect, it } from 'vitest';
import { PointsRefundRpc, PointsRpc, type HoldPointsRequest, type PointsHoldReply, type RefundHoldReply, type RefundHoldRequest } from '@membergraph/contracts';
import { STREAMS, Role, callRequest, newId } from '@membergraph/platform';
import { eventually, gql, memberEvents, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { auditPoints } from '../src/services/points-audit.service';
import { creditPoints } from '../src/services/points-ledger.service';
import { refundHold } from '../src/services/points-restore.service';
import { checkIn } from '../src/services/points-behaviour.service';
import { projectTier } from '../src/services/earn-rules.service';

const svc = serviceUnderTest('points', createApp, {
  probe: STREAMS.member,
  probeName: 'points-restore-behaviour-test',
  env: { HOLD_SWEEP_INTERVAL_MS: '0', POINTS_DAILY_CAPS: 'REVIEW=15,TOTAL=1000', DAILY_JOBS_CHECK_INTERVAL_MS: '0' },
});
const DAY = 86_400_000;

const CHECK_IN = `mutation { checkIn { day streak requested granted alreadyCheckedIn } }`;
const AWARD = `mutation($input: AwardBehaviourPointsInput!) { awardBehaviourPoints(input: $input) { memberId rule reference requested granted cappedBy entryId alreadyAwarded } }`;

const code = (res: { errors?: Array<{ extensions?: { code?: string } }> }) => res.errors?.[0]?.extensions?.code;
const withCode = (c: string) => ({ extensions: expect.objectContaining({ code: c }) });
const integration = (scopes = ['points:award']) => tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'reviews-app', scopes });

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return svc.app.kit.ds.query(query, params);
}

async function memberWithLots(lots: Array<{ amount: number; daysAgo: number }>): Promise<string> {
  const memberId = newId();
  await svc.app.kit.uow((em) => projectTier(em, memberId, 'MEMBER', new Date()));
  for (const [i, l] of lots.entries()) {
    await svc.app.kit.uow((em) =>
      creditPoints(svc.app.kit, em, { memberId, type: 'EARN', amount: l.amount, reason: 'ORDER', reference: `o${i}`, idempotencyKey: `seed:${memberId}:${i}`, at: new Date(Date.now() - l.daysAgo * DAY) }),
    );
  }
  return memberId;
}

async function account(memberId: string) {
  const [row] = await sql<{ balance: string; held: string }>('SELECT balance, held FROM points_account WHERE member_id = ?', [memberId]);
  return { balance: Number(row?.balance ?? 0), held: Number(row?.held ?? 0) };
}

async function lotsOf(memberId: string) {
  const rows = await sql<{ amount: string; remaining: string; expires_at: Date }>('SELECT amount, remaining, expires_at FROM points_lot WHERE member_id = ? ORDER BY expires_at, earned_at', [memberId]);
  return rows.map((r) => ({ amount: Number(r.amount), remaining: Number(r.remaining), expiresAt: new Date(r.expires_at).toISOString() }));
}

async function entries(memberId: string) {
  const rows = await sql<{ type: string; amount: string; reason: string; note: string | null }>('SELECT type, amount, reason, note FROM points_entry WHERE member_id = ? ORDER BY id', [memberId]);
  return rows.map((r) => ({ type: r.type, amount: Number(r.amount), reason: r.reason, note: r.note }));
}

async function memberIsClean(memberId: string) {
  const audit = await auditPoints(svc.app.kit.ds.manager);
  expect(audit.differences.filter((d) => d.memberId === memberId)).toEqual([]);
}

const rpc = {
  hold: (req: HoldPointsRequest) => callRequest<HoldPointsRequest, PointsHoldReply>(svc.probe.bus, PointsRpc.Hold, req),
  capture: (holdId: string) => callRequest<{ holdId: string }, PointsHoldReply>(svc.probe.bus, PointsRpc.Capture, { holdId }),
  refund: (req: RefundHoldRequest) => callRequest<RefundHoldRequest, RefundHoldReply>(svc.probe.bus, PointsRefundRpc.RefundHold, req),
};

async function capturedHold(memberId: string, amount: number): Promise<string> {
  const hold = await rpc.hold({ memberId, amount, reference: `pay-${newId()}`, idempotencyKey: newId() });
  await rpc.capture(hold.holdId);
  return hold.holdId;
}

describe('giving back a refunded checkout\'s points (rpc.points.refund_hold)', () => {
  it('returns the points to the lots they came from with their original expiry, once per refund id', async () => {
    const memberId = await memberWithLots([{ amount: 50, daysAgo: 10 }, { amount: 30, daysAgo: 300 }]);
    const lotsBefore = await lotsOf(memberId);
    const holdId = await capturedHold(memberId, 60);
    expect(await account(memberId)).toEqual({ balance: 20, held: 0 });
    const refundId = newId();
    const first = await rpc.refund({ holdId, refundId, amount: 25 });
    expect(first).toEqual({ holdId, restored: 25, expired: 0 });
    // Undone in reverse spending order: the later-expiring lot gets its 30 back first.
    expect((await lotsOf(memberId)).map((l) => l.remaining)).toEqual([0, 45]);
    expect(await rpc.refund({ holdId, refundId, amount: 25 })).toEqual(first);
    await expect(rpc.refund({ holdId, refundId, amount: 26 })).rejects.toMatchObject(withCode('CONFLICT'));
    await expect(rpc.refund({ holdId, refundId: newId(), amount: 36 })).rejects.toMatchObject(withCode('BAD_USER_INPUT'));
    expect(await rpc.refund({ holdId, refundId: newId(), amount: 35 })).toEqual({ holdId, restored: 35, expired: 0 });
    expect(await lotsOf(memberId)).toEqual(lotsBefore.map((l) => ({ ...l, remaining: l.amount })));
    expect(await account(memberId)).toEqual({ balance: 80, held: 0 });
    expect((await entries(memberId)).filter((e) => e.type === 'RESTORE').map((e) => [e.amount, e.reason])).toEqual([
      [25, 'PAYMENT_REFUND'],
      [35, 'PAYMENT_REFUND'],
    ]);
    await expect(rpc.refund({ holdId, refundId: newId(), amount: 1 })).rejects.toMatchObject(withCode('BAD_USER_INPUT'));
    await memberIsClean(memberId);
  });

  it('does not revive a lot that expired meanwhile and reports that part as expired', async () => {
    // The 30-point lot expires in about a day; the 50-point one in about 355 days.
    const memberId = await memberWithLots([{ amount: 50, daysAgo: 10 }, { amount: 30, daysAgo: 364 }]);
    const holdId = await capturedHold(memberId, 60);
    const later = new Date(Date.now() + 3 * DAY);
    const reply = await svc.app.kit.uow((em) => refundHold(svc.app.kit, em, { holdId, refundId: newId(), amount: 60 }, later));
    expect(reply).toEqual({ holdId, restored: 30, expired: 30 });
    expect(await account(memberId)).toEqual({ balance: 50, held: 0 });
    expect((await lotsOf(memberId)).map((l) => l.remaining)).toEqual([0, 50]);
    await memberIsClean(memberId);
  });

  it('gives back only captured holds (CONFLICT) and knows only real holds (NOT_FOUND)', async () => {
    const memberId = await memberWithLots([{ amount: 50, daysAgo: 1 }]);
    const hold = await rpc.hold({ memberId, amount: 10, reference: 'p', idempotencyKey: newId() });
    await expect(rpc.refund({ holdId: hold.holdId, refundId: newId(), amount: 5 })).rejects.toMatchObject(withCode('CONFLICT'));
    await expect(rpc.refund({ holdId: newId(), refundId: newId(), amount: 5 })).rejects.toMatchObject(withCode('NOT_FOUND'));
    await expect(rpc.refund({ holdId: hold.holdId, refundId: newId(), amount: 0 })).rejects.toMatchObject(withCode('BAD_USER_INPUT'));
  });

  it('repays a debt first with the points given back', async () => {
    const memberId = await memberWithLots([{ amount: 100, daysAgo: 1 }]);
    const holdId = await capturedHold(memberId, 100);
    // An order's 40 points, spent at once, then its refund: 40 of debt.
    const order = memberEvents.orderCompleted(memberId, 4000);
    await svc.probe.publish(order);
    await eventually(async () => expect((await account(memberId)).balance).toBe(40));
    await capturedHold(memberId, 40);
    await svc.probe.publish(memberEvents.orderRefunded(memberId, order.data.orderId, 4000, 4000));
    await eventually(async () => expect((await account(memberId)).balance).toBe(-40));
    expect(await rpc.refund({ holdId, refundId: newId(), amount: 100 })).toEqual({ holdId, restored: 100, expired: 0 });
    expect(await account(memberId)).toEqual({ balance: 60, held: 0 });
    expect((await lotsOf(memberId)).reduce((s, l) => s + l.remaining, 0)).toBe(60);
    await memberIsClean(memberId);
  });
});

describe('daily check-in', () => {
  it('earns once per business day: checking in again returns the same check-in', async () => {
    const memberId = newId();
    const token = await tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });
    const first = await gql(svc.url, CHECK_IN, {}, token);
    expect(first.errors).toBeUndefined();
    expect(first.data.checkIn).toMatchObject({ streak: 1, requested: 5, granted: 5, alreadyCheckedIn: false });
    const again = await gql(svc.url, CHECK_IN, {}, token);
    expect(again.data.checkIn).toEqual({ ...first.data.checkIn, alreadyCheckedIn: true });
    expect(await entries(memberId)).toEqual([{ type: 'EARN', amount: 5, reason: 'CHECK_IN', note: null }]);
    expect(code(await gql(svc.url, CHECK_IN, {}, await tokenFor([Role.SUPPORT])))).toBe('FORBIDDEN');
  });

  it('climbs the streak ladder (days 1-6: 5, day 7: 20, then over again) and restarts after a missed day', async () => {
    const memberId = newId();
    const start = Date.UTC(2026, 2, 1, 4); // noon in Shanghai
    const streaks = [];
    for (const d of [0, 1, 2, 3, 4, 5, 6, 7, 9]) streaks.push(await svc.app.kit.uow((em) => checkIn(svc.app.kit, em, memberId, new Date(start + d * DAY))));
    expect(streaks.map((c) => [c.day, c.streak, c.granted])).toEqual([
      ['2026-03-01', 1, 5],
      ['2026-03-02', 2, 5],
      ['2026-03-03', 3, 5],
      ['2026-03-04', 4, 5],
      ['2026-03-05', 5, 5],
      ['2026-03-06', 6, 5],
      ['2026-03-07', 7, 20],
      ['2026-03-08', 8, 5],
      ['2026-03-10', 1, 5],
    ]);
    expect(await account(memberId)).toEqual({ balance: 60, held: 0 });
    await memberIsClean(memberId);
  });
});

describe('behaviour points from integrations', () => {
  it('awards a review once per reference; another member with it is CONFLICT; needs the points:award scope', async () => {
    const memberId = await memberWithLots([]);
    const other = await memberWithLots([]);
    const token = await integration();
    const input = { memberId, type: 'REVIEW', reference: `review-${memberId}` };
    const first = await gql(svc.url, AWARD, { input }, token);
    expect(first.errors).toBeUndefined();
    expect(first.data.awardBehaviourPoints).toMatchObject({ rule: 'REVIEW', requested: 10, granted: 10, cappedBy: null, alreadyAwarded: false });
    const again = await gql(svc.url, AWARD, { input }, token);
    expect(again.data.awardBehaviourPoints).toEqual({ ...first.data.awardBehaviourPoints, alreadyAwarded: true });
    expect(code(await gql(svc.url, AWARD, { input: { ...input, memberId: other } }, token))).toBe('CONFLICT');
    expect(code(await gql(svc.url, AWARD, { input }, await integration(['points:hold'])))).toBe('FORBIDDEN');
    expect(code(await gql(svc.url, AWARD, { input: { ...input, memberId: newId(), reference: 'x' } }, token))).toBe('NOT_FOUND');
    expect(await account(memberId)).toEqual({ balance: 10, held: 0 });
  });

  it('caps reviews per member and business day: the over-cap part is not granted and the entry says so', async () => {
    const memberId = await memberWithLots([]);
    const token = await integration();
    const award = async (ref: string) => (await gql(svc.url, AWARD, { input: { memberId, type: 'REVIEW', reference: `${memberId}-${ref}` } }, token)).data.awardBehaviourPoints;
    expect(await award('a')).toMatchObject({ requested: 10, granted: 10, cappedBy: null });
    expect(await award('b')).toMatchObject({ requested: 10, granted: 5, cappedBy: 'RULE' });
    expect(await award('c')).toMatchObject({ requested: 10, granted: 0, cappedBy: 'RULE', entryId: null });
    // Shares have their own (default: none in this file) cap.
    expect((await gql(svc.url, AWARD, { input: { memberId, type: 'SHARE', reference: `${memberId}-s` } }, token)).data.awardBehaviourPoints).toMatchObject({ granted: 5 });
    expect(await entries(memberId)).toEqual([
      { type: 'EARN', amount: 10, reason: 'REVIEW', note: null },
      { type: 'EARN', amount: 5, reason: 'REVIEW', note: 'CAPPED requested=10 granted=5 by=RULE' },
      { type: 'EARN', amount: 5, reason: 'SHARE', note: null },
    ]);
    await memberIsClean(memberId);
  });

  it('caps concurrent earnings of one member exactly: 10 reviews at once grant 15 points in all', async () => {
    const memberId = await memberWithLots([]);
    const token = await integration();
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => (await gql(svc.url, AWARD, { input: { memberId, type: 'REVIEW', reference: `${memberId}-r${i}` } }, token)).data.awardBehaviourPoints),
    );
    // Each reads the day's usage after taking the account lock, so none can count without the others' grants.
    expect(results.reduce((sum: number, r: { granted: number }) => sum + r.granted, 0)).toBe(15);
    expect(await account(memberId)).toEqual({ balance: 15, held: 0 });
    expect((await entries(memberId)).reduce((sum, e) => sum + e.amount, 0)).toBe(15);
    await memberIsClean(memberId);
  });

  it('earns the profile completion points once, from the member event or an integration, whichever comes first', async () => {
    const memberId = newId();
    await svc.probe.publish(memberEvents.registered(memberId));
    await svc.probe.publish(memberEvents.profileCompleted(memberId));
    await svc.probe.publish(memberEvents.profileCompleted(memberId));
    await eventually(async () => expect((await account(memberId)).balance).toBe(150));
    const res = await gql(svc.url, AWARD, { input: { memberId, type: 'PROFILE_COMPLETED', reference: 'crm-1' } }, await integration());
    expect(res.data.awardBehaviourPoints).toMatchObject({ granted: 50, alreadyAwarded: true });
    expect((await entries(memberId)).map((e) => e.reason)).toEqual(['WELCOME', 'PROFILE_COMPLETED']);
  });
});
