import { describe, expect, it } from 'vitest';
import type { PointsExpired } from '@membergraph/contracts';
import { STREAMS, decodeEnvelope, newId, Role, type EventEnvelope } from '@membergraph/platform';
import { eventually, gql, itHasCompleteMigrations, memberEvents, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { creditPoints } from '../src/services/points-ledger.service';

// No daily jobs: the tests run the expiry themselves, on lots they backdate.
const svc = serviceUnderTest('points', createApp, { probe: STREAMS.member, probeName: 'points-lots-test', env: { DAILY_JOBS_CHECK_INTERVAL_MS: '0' } });
const CONSUMER = 'points-member';
itHasCompleteMigrations(svc);

const ADJUST = `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { id type amount balanceAfter reason note operator } }`;
const EXPIRE = `mutation($asOf: DateTime!) { runPointsExpiry(asOf: $asOf) { runId asOf membersAffected lotsExpired pointsExpired } }`;
const AUDIT = `{ pointsAudit { ok accountsChecked differences { memberId kind detail } } }`;
const RULES = `{ earnRules { basePointsPerYuan tierMultipliers { tier perMille } promotions { code multiplierPerMille dayOfMonth weekdays startsOn endsOn } timeZone version updatedBy } }`;
const UPDATE_RULES = `mutation($input: EarnRulesInput!) { updateEarnRules(input: $input) { basePointsPerYuan version updatedBy promotions { code } } }`;
const POINTS = `query($reps: [_Any!]!, $days: Int, $type: PointsEntryType) {
  _entities(representations: $reps) { ... on Member { points {
    balance lifetimeEarned expiringSoon(days: $days) { amount expiresAt }
    history(first: 50, type: $type) { edges { node { type amount balanceAfter reason reference note operator } } } } } }
}`;

const support = () => tokenFor([Role.SUPPORT], { sub: 'agent-7' });
const admin = () => tokenFor([Role.ADMIN], { sub: 'admin-1' });
const memberToken = (memberId: string) => tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });
const DAY = 86_400_000;

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return svc.app.kit.ds.query(query, params);
}

/** A member the service knows, with credits of `amounts` earned `daysAgo` days ago (so their lots expire at different times). */
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

async function balanceOf(memberId: string): Promise<number> {
  const [row] = await sql<{ balance: string }>('SELECT balance FROM points_account WHERE member_id = ?', [memberId]);
  return Number(row?.balance ?? 0);
}

async function lotsOf(memberId: string): Promise<Array<{ amount: number; remaining: number }>> {
  const rows = await sql<{ amount: string; remaining: string }>('SELECT amount, remaining FROM points_lot WHERE member_id = ? ORDER BY expires_at, earned_at', [memberId]);
  return rows.map((r) => ({ amount: Number(r.amount), remaining: Number(r.remaining) }));
}

const adjust = async (input: Record<string, unknown>, token?: string) => gql(svc.url, ADJUST, { input }, token ?? (await support()));
const code = (res: { errors?: Array<{ extensions?: { code?: string } }> }) => res.errors?.[0]?.extensions?.code;

async function expiredEvents(): Promise<Array<EventEnvelope<PointsExpired>>> {
  const bus = svc.probe.bus;
  const stream = bus.streamName(STREAMS.points.name);
  const info = await bus.jsm.streams.info(stream);
  const out: Array<EventEnvelope<PointsExpired>> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await bus.jsm.streams.getMessage(stream, { seq });
    if (msg && msg.subject === bus.subject('points.expired')) out.push(decodeEnvelope(msg.data) as EventEnvelope<PointsExpired>);
  }
  return out;
}

describe('adjustPoints', () => {
  it('adds a lot for a positive delta, recorded with the operator and their reason', async () => {
    const memberId = await memberWithLots([{ amount: 100, daysAgo: 0 }]);
    const res = await adjust({ memberId, delta: 50, reason: 'Late delivery', idempotencyKey: `k-${memberId}` });
    expect(res.errors).toBeUndefined();
    expect(res.data.adjustPoints).toMatchObject({ type: 'ADJUST', amount: 50, balanceAfter: 150, reason: 'ADJUSTMENT', note: 'Late delivery', operator: 'agent-7' });
    expect(await lotsOf(memberId)).toEqual([
      { amount: 100, remaining: 100 },
      { amount: 50, remaining: 50 },
    ]);
  });

  it('returns the first entry for the same key and input, and CONFLICT for a different input', async () => {
    const memberId = await memberWithLots([{ amount: 100, daysAgo: 0 }]);
    const input = { memberId, delta: -30, reason: 'Correction', idempotencyKey: `dup-${memberId}` };
    const first = await adjust(input);
    const again = await adjust(input);
    expect(again.data.adjustPoints).toEqual(first.data.adjustPoints);
    const other = await adjust({ ...input, delta: -31 });
    expect(code(other)).toBe('CONFLICT');
    expect(other.errors?.[0]?.extensions).toMatchObject({ field: 'idempotencyKey' });
    expect(await balanceOf(memberId)).toBe(70);
    expect(await sql('SELECT id FROM points_entry WHERE member_id = ? AND type = ?', [memberId, 'ADJUST'])).toHaveLength(1);
  });

  it('never takes the balance below zero: INSUFFICIENT_FUNDS, nothing written', async () => {
    const memberId = await memberWithLots([{ amount: 40, daysAgo: 0 }]);
    const res = await adjust({ memberId, delta: -41, reason: 'Too much', idempotencyKey: `over-${memberId}` });
    expect(code(res)).toBe('INSUFFICIENT_FUNDS');
    expect(await balanceOf(memberId)).toBe(40);
    expect(await sql('SELECT 1 FROM idempotency_key WHERE operation = ? AND idem_key = ?', ['adjustPoints', `over-${memberId}`])).toEqual([]);
  });

  it('rejects bad input with BAD_USER_INPUT naming the field, and an unknown member with NOT_FOUND', async () => {
    const memberId = await memberWithLots([{ amount: 10, daysAgo: 0 }]);
    const base = { memberId, delta: 5, reason: 'ok', idempotencyKey: `bad-${memberId}` };
    for (const [field, value] of [['delta', 0], ['reason', '  '], ['idempotencyKey', ''], ['memberId', 'x'.repeat(27)]] as const) {
      const res = await adjust({ ...base, [field]: value });
      expect(code(res)).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions).toMatchObject({ field });
    }
    expect(code(await adjust({ ...base, memberId: newId() }))).toBe('NOT_FOUND');
    expect(await balanceOf(memberId)).toBe(10);
  });

  it('is for SUPPORT and ADMIN only', async () => {
    const memberId = await memberWithLots([{ amount: 10, daysAgo: 0 }]);
    const input = { memberId, delta: 5, reason: 'r', idempotencyKey: `auth-${memberId}` };
    expect(code(await gql(svc.url, ADJUST, { input }))).toBe('UNAUTHENTICATED');
    expect(code(await adjust(input, await memberToken(memberId)))).toBe('FORBIDDEN');
    expect(code(await adjust(input, await tokenFor([Role.OPERATOR])))).toBe('FORBIDDEN');
    expect((await adjust(input, await admin())).data.adjustPoints.operator).toBe('admin-1');
  });

  it('spends the lots that expire soonest first and records which lots it drew from', async () => {
    // Earned 300, 100 and 10 days ago: expiring in about 65, 265 and 355 days.
    const memberId = await memberWithLots([{ amount: 30, daysAgo: 100 }, { amount: 20, daysAgo: 300 }, { amount: 50, daysAgo: 10 }]);
    const res = await adjust({ memberId, delta: -35, reason: 'Correction', idempotencyKey: `fifo-${memberId}` });
    expect(res.errors).toBeUndefined();
    expect(await lotsOf(memberId)).toEqual([
      { amount: 20, remaining: 0 },
      { amount: 30, remaining: 15 },
      { amount: 50, remaining: 50 },
    ]);
    const draws = await sql<{ amount: string; lot_amount: string }>(
      'SELECT d.amount, l.amount AS lot_amount FROM points_draw d JOIN points_lot l ON l.id = d.lot_id WHERE d.entry_id = ? ORDER BY l.expires_at',
      [res.data.adjustPoints.id],
    );
    expect(draws.map((d) => [Number(d.lot_amount), Number(d.amount)])).toEqual([
      [20, 20],
      [30, 15],
    ]);
  });

  it('serialises 30 concurrent debits on one account: never below zero, no update lost', async () => {
    const memberId = await memberWithLots([{ amount: 60, daysAgo: 5 }, { amount: 40, daysAgo: 1 }]);
    const token = await support();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => adjust({ memberId, delta: -5, reason: 'race', idempotencyKey: `race-${memberId}-${i}` }, token)),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(20);
    expect(results.filter((r) => code(r) === 'INSUFFICIENT_FUNDS')).toHaveLength(10);
    expect(await balanceOf(memberId)).toBe(0);
    const balances = results.filter((r) => !r.errors).map((r) => r.data.adjustPoints.balanceAfter as number).sort((a, b) => a - b);
    expect(balances).toEqual(Array.from({ length: 20 }, (_, i) => i * 5));
    expect(await lotsOf(memberId)).toEqual([
      { amount: 60, remaining: 0 },
      { amount: 40, remaining: 0 },
    ]);
    const [drawn] = await sql<{ drawn: string }>('SELECT SUM(amount) AS drawn FROM points_draw WHERE member_id = ?', [memberId]);
    expect(Number(drawn?.drawn)).toBe(100);
  });
});

describe('expiry', () => {
  it('expires lots past their date in one EXPIRE entry per member, emits points.expired, and is safe to re-run', async () => {
    const a = await memberWithLots([{ amount: 10, daysAgo: 400 }, { amount: 20, daysAgo: 380 }, { amount: 30, daysAgo: 10 }]);
    const b = await memberWithLots([{ amount: 7, daysAgo: 370 }]);
    // Spend part of a's oldest lot first: only what is left of it expires.
    await adjust({ memberId: a, delta: -4, reason: 'spent', idempotencyKey: `pre-${a}` });
    const asOf = new Date().toISOString();
    const token = await admin();
    const run = await gql(svc.url, EXPIRE, { asOf }, token);
    expect(run.errors).toBeUndefined();
    expect(run.data.runPointsExpiry).toMatchObject({ membersAffected: expect.any(Number), pointsExpired: expect.any(Number) });
    const entries = await sql<{ member_id: string; amount: string; balance_after: string; reference: string; operator: string }>(
      "SELECT member_id, amount, balance_after, reference, operator FROM points_entry WHERE type = 'EXPIRE' AND member_id IN (?, ?) ORDER BY member_id",
      [a, b],
    );
    expect(entries.map((e) => [e.member_id, Number(e.amount), Number(e.balance_after), e.reference, e.operator])).toEqual(
      [
        [a, -26, 30, run.data.runPointsExpiry.runId, 'admin-1'],
        [b, -7, 0, run.data.runPointsExpiry.runId, 'admin-1'],
      ].sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
    );
    expect(await balanceOf(a)).toBe(30);
    expect(await lotsOf(a)).toEqual([
      { amount: 10, remaining: 0 },
      { amount: 20, remaining: 0 },
      { amount: 30, remaining: 30 },
    ]);
    const events = await eventually(async () => {
      const mine = (await expiredEvents()).filter((e) => e.data.memberId === a || e.data.memberId === b);
      expect(mine).toHaveLength(2);
      return mine;
    });
    expect(events.find((e) => e.data.memberId === a)?.data).toMatchObject({ amount: 26, balance: 30, lots: 2, runId: run.data.runPointsExpiry.runId });

    const rerun = await gql(svc.url, EXPIRE, { asOf }, token);
    expect(rerun.data.runPointsExpiry).toMatchObject({ membersAffected: 0, lotsExpired: 0, pointsExpired: 0 });
    expect(await sql("SELECT id FROM points_entry WHERE type = 'EXPIRE' AND member_id = ?", [a])).toHaveLength(1);
  });

  it('is for ADMIN only', async () => {
    const asOf = new Date().toISOString();
    expect(code(await gql(svc.url, EXPIRE, { asOf }, await tokenFor([Role.SUPPORT])))).toBe('FORBIDDEN');
    expect(code(await gql(svc.url, EXPIRE, { asOf }, await tokenFor([Role.FINANCE, Role.OPERATOR])))).toBe('FORBIDDEN');
    expect(code(await gql(svc.url, EXPIRE, { asOf: 'yesterday' }, await admin()))).toBe('BAD_USER_INPUT');
  });

  it('shows lifetime earnings, points expiring soon and history filtered by type', async () => {
    // Expiring in about 5 and 20 days; the third lot in about 300.
    const memberId = await memberWithLots([{ amount: 11, daysAgo: 360 }, { amount: 22, daysAgo: 345 }, { amount: 33, daysAgo: 65 }]);
    await adjust({ memberId, delta: -1, reason: 'fix', idempotencyKey: `soon-${memberId}` });
    const reps = [{ __typename: 'Member', id: memberId }];
    const res = await gql(svc.url, POINTS, { reps, days: 30, type: 'ADJUST' }, await memberToken(memberId));
    expect(res.errors).toBeUndefined();
    const points = res.data._entities[0].points;
    expect(points.balance).toBe(65);
    expect(points.lifetimeEarned).toBe(66);
    expect(points.expiringSoon.map((e: { amount: number }) => e.amount)).toEqual([10, 22]);
    expect(new Date(points.expiringSoon[0].expiresAt).getTime()).toBeGreaterThan(Date.now());
    // A member sees the adjustment and its reason, not which staff user made it.
    expect(points.history.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { type: 'ADJUST', amount: -1, balanceAfter: 65, reason: 'ADJUSTMENT', reference: null, note: 'fix', operator: null },
    ]);
    const week = await gql(svc.url, POINTS, { reps, days: 7 }, await memberToken(memberId));
    expect(week.data._entities[0].points.expiringSoon.map((e: { amount: number }) => e.amount)).toEqual([10]);
    expect(code(await gql(svc.url, POINTS, { reps, days: 0 }, await memberToken(memberId)))).toBe('BAD_USER_INPUT');
  });
});

describe('earn rules', () => {
  const rulesInput = {
    basePointsPerYuan: 1,
    tierMultipliers: [
      { tier: 'MEMBER', perMille: 1000 },
      { tier: 'SILVER', perMille: 1200 },
      { tier: 'GOLD', perMille: 1500 },
      { tier: 'DIAMOND', perMille: 2000 },
    ],
    promotions: [{ code: 'MEMBER_DAY', name: 'Member day', multiplierPerMille: 2000, dayOfMonth: 28 }],
  };

  it('starts from the defaults: 1 point per yuan, MEMBER 1.0 SILVER 1.2 GOLD 1.5 DIAMOND 2.0, Asia/Shanghai', async () => {
    const res = await gql(svc.url, RULES, {}, await tokenFor([Role.OPERATOR]));
    expect(res.errors).toBeUndefined();
    expect(res.data.earnRules).toMatchObject({ basePointsPerYuan: 1, promotions: [], timeZone: 'Asia/Shanghai', version: 0, updatedBy: null });
    expect(res.data.earnRules.tierMultipliers).toEqual(rulesInput.tierMultipliers);
  });

  it('is read and changed by ADMIN and OPERATOR only', async () => {
    for (const roles of [[Role.SUPPORT], [Role.FINANCE], [Role.ANALYST]]) {
      const token = await tokenFor(roles);
      expect(code(await gql(svc.url, RULES, {}, token))).toBe('FORBIDDEN');
      expect(code(await gql(svc.url, UPDATE_RULES, { input: rulesInput }, token))).toBe('FORBIDDEN');
    }
    expect(code(await gql(svc.url, RULES))).toBe('UNAUTHENTICATED');
  });

  it('rejects bad rules with BAD_USER_INPUT naming the field and saves nothing', async () => {
    const token = await tokenFor([Role.OPERATOR]);
    const res = await gql(svc.url, UPDATE_RULES, { input: { ...rulesInput, promotions: [{ ...rulesInput.promotions[0], dayOfMonth: 32 }] } }, token);
    expect(code(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions).toMatchObject({ field: 'promotions[0].dayOfMonth' });
    expect((await gql(svc.url, RULES, {}, token)).data.earnRules.version).toBe(0);
  });

  it('earns by the member tier and member day once saved: 12850 fen, GOLD, on the 28th -> 384', async () => {
    const token = await tokenFor([Role.OPERATOR], { sub: 'op-1' });
    const saved = await gql(svc.url, UPDATE_RULES, { input: rulesInput }, token);
    expect(saved.data.updateEarnRules).toMatchObject({ version: 1, updatedBy: 'op-1', promotions: [{ code: 'MEMBER_DAY' }] });
    const gold = newId();
    const member = newId();
    await svc.probe.publish(memberEvents.registered(gold, { tier: 'GOLD' }));
    await svc.probe.publish(memberEvents.registered(member));
    // 2026-03-28 10:00 in Shanghai (member day) and 2026-03-27 10:00 (not).
    const onMemberDay = memberEvents.orderCompleted(gold, 12850, { completedAt: '2026-03-28T02:00:00.000Z' });
    await svc.probe.publish(onMemberDay);
    await svc.probe.publish(memberEvents.orderCompleted(member, 12850, { completedAt: '2026-03-27T02:00:00.000Z' }));
    const last = await svc.probe.publish(memberEvents.orderCompleted(member, 12850, { completedAt: '2026-03-28T02:00:00.000Z' }));
    await svc.probe.consumed(CONSUMER, last);
    const orders = async (memberId: string) =>
      (await sql<{ amount: string }>("SELECT amount FROM points_entry WHERE member_id = ? AND reason = 'ORDER' ORDER BY id", [memberId])).map((r) => Number(r.amount));
    expect(await orders(gold)).toEqual([384]);
    expect(await orders(member)).toEqual([128, 256]);
  });
});

describe('pointsAudit', () => {
  it('finds every account consistent after earning, adjusting and expiring', async () => {
    const res = await gql(svc.url, AUDIT, {}, await tokenFor([Role.FINANCE]));
    expect(res.errors).toBeUndefined();
    expect(res.data.pointsAudit.differences).toEqual([]);
    expect(res.data.pointsAudit.ok).toBe(true);
    const [accounts] = await sql<{ n: string }>('SELECT COUNT(*) AS n FROM points_account');
    expect(res.data.pointsAudit.accountsChecked).toBe(Number(accounts?.n));
  });

  it('is for ADMIN and FINANCE only', async () => {
    expect(code(await gql(svc.url, AUDIT, {}, await tokenFor([Role.SUPPORT])))).toBe('FORBIDDEN');
    expect(code(await gql(svc.url, AUDIT))).toBe('UNAUTHENTICATED');
  });

  it('reports a balance that drifted from its entries and lots', async () => {
    const memberId = await memberWithLots([{ amount: 10, daysAgo: 0 }]);
    await sql('UPDATE points_account SET balance = balance + 5 WHERE member_id = ?', [memberId]);
    try {
      const res = await gql(svc.url, AUDIT, {}, await admin());
      expect(res.data.pointsAudit.ok).toBe(false);
      expect(res.data.pointsAudit.differences.filter((d: { memberId: string }) => d.memberId === memberId).map((d: { kind: string }) => d.kind)).toEqual([
        'BALANCE',
        'BALANCE_AFTER',
        'LOTS',
        'ISSUED',
      ]);
    } finally {
      await sql('UPDATE points_account SET balance = balance - 5 WHERE member_id = ?', [memberId]);
    }
  });
});
