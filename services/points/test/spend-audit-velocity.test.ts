import { beforeAll, describe, expect, it } from 'vitest';
import { Role, newId } from '@membergraph/platform';
import { gql, serviceUnderTest, tokenFor, type GqlResult } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { auditPoints } from '../src/services/points-audit.service';
import { creditPoints } from '../src/services/points-ledger.service';
import { projectTier } from '../src/services/earn-rules.service';

// The IP rule trips on the third member earning from one address within the hour; the device
// rule is off so only the IP decides. No welcome bonus, no background jobs.
const svc = serviceUnderTest('points', createApp, {
  env: {
    WELCOME_POINTS: '0',
    HOLD_SWEEP_INTERVAL_MS: '0',
    DAILY_JOBS_CHECK_INTERVAL_MS: '0',
    EARN_VELOCITY_MAX_MEMBERS_PER_IP: '2',
    EARN_VELOCITY_MAX_MEMBERS_PER_DEVICE: '0',
  },
});
const DAY = 86_400_000;

const ADJUST = `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { id amount operator } }`;
const CREATE = `mutation($input: CreateRewardInput!) { createReward(input: $input) { id } }`;
const REDEEM = `mutation($input: RedeemRewardInput!) { redeemReward(input: $input) { id points } }`;
const HOLD = `mutation($input: HoldPointsInput!) { holdPoints(input: $input) { id amount status } }`;
const AWARD = `mutation($input: AwardBehaviourPointsInput!) { awardBehaviourPoints(input: $input) { granted entryId reviewId } }`;
const REVIEWS = `query { pointsReviews(status: PENDING, first: 50) { edges { node { id memberId rule points flaggedBy detail status } } } }`;

const code = (res: GqlResult) => res.errors?.[0]?.extensions?.code;
let support: string;

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return svc.app.kit.ds.query(query, params);
}

/** A registered member with lots of `amounts`, earned a day ago. */
async function memberWith(...amounts: number[]): Promise<string> {
  const memberId = newId();
  await svc.app.kit.uow((em) => projectTier(em, memberId, 'MEMBER', new Date()));
  for (const [i, amount] of amounts.entries()) {
    await svc.app.kit.uow((em) =>
      creditPoints(svc.app.kit, em, { memberId, type: 'EARN', amount, reason: 'ORDER', reference: `o${i}`, idempotencyKey: `seed:${memberId}:${i}`, at: new Date(Date.now() - DAY) }),
    );
  }
  return memberId;
}

async function account(memberId: string) {
  const [row] = await sql<{ balance: string; held: string }>('SELECT balance, held FROM points_account WHERE member_id = ?', [memberId]);
  return { balance: Number(row!.balance), held: Number(row!.held) };
}

async function memberIsClean(memberId: string) {
  const audit = await auditPoints(svc.app.kit.ds.manager);
  expect(audit.differences.filter((d) => d.memberId === memberId)).toEqual([]);
}

beforeAll(async () => {
  support = await tokenFor([Role.SUPPORT], { sub: 'agent-7' });
});

describe('adjustPoints is audited', () => {
  it('writes one audit_log row per adjustment, with the operator, and none for a replay or a refusal', async () => {
    const memberId = await memberWith(100);
    const add = { memberId, delta: 25, reason: 'Late delivery', idempotencyKey: `aud-add-${memberId}` };
    const take = { memberId, delta: -40, reason: 'Duplicate credit', idempotencyKey: `aud-take-${memberId}` };
    const added = await gql(svc.url, ADJUST, { input: add }, support);
    const taken = await gql(svc.url, ADJUST, { input: take }, support);
    expect(added.errors).toBeUndefined();
    expect(taken.errors).toBeUndefined();
    // The same key and input replays; a debit beyond what is available is refused.
    expect((await gql(svc.url, ADJUST, { input: add }, support)).data.adjustPoints).toEqual(added.data.adjustPoints);
    expect(code(await gql(svc.url, ADJUST, { input: { ...take, delta: -1000, idempotencyKey: `aud-over-${memberId}` } }, support))).toBe('INSUFFICIENT_FUNDS');

    const trail = await sql<{ actor: string; action: string; target: string; detail: string }>('SELECT actor, action, target, detail FROM audit_log WHERE target = ? ORDER BY id', [
      memberId,
    ]);
    expect(trail.map((t) => ({ ...t, detail: JSON.parse(t.detail) }))).toEqual([
      { actor: 'agent-7', action: 'points.adjust', target: memberId, detail: { entryId: added.data.adjustPoints.id, delta: 25, reason: 'Late delivery', idempotencyKey: add.idempotencyKey } },
      { actor: 'agent-7', action: 'points.adjust', target: memberId, detail: { entryId: taken.data.adjustPoints.id, delta: -40, reason: 'Duplicate credit', idempotencyKey: take.idempotencyKey } },
    ]);
  });
});

describe('one account under 50 concurrent redemptions and holds', () => {
  it('never overspends and loses no update: exact balance, held points, stock and ledger', async () => {
    // 255 available; every request asks for 10 points, so exactly 25 of the 50 fit, whichever they are.
    const memberId = await memberWith(100, 155);
    const member = await tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });
    const checkout = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'pos-race', scopes: ['points:hold'] });
    const created = await gql(svc.url, CREATE, { input: { name: 'Espresso', type: 'VIRTUAL', cost: 10, stock: 1000 } }, await tokenFor([Role.OPERATOR]));
    const rewardId = created.data.createReward.id as string;

    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const res =
          i % 2 === 0
            ? await gql(svc.url, REDEEM, { input: { rewardId, quantity: 1, idempotencyKey: `race-${i}` } }, member)
            : await gql(svc.url, HOLD, { input: { memberId, amount: 10, reference: `pay-${i}`, idempotencyKey: `race-${memberId}-${i}` } }, checkout);
        return { kind: i % 2 === 0 ? ('redeem' as const) : ('hold' as const), res };
      }),
    );
    const ok = results.filter((r) => !r.res.errors);
    expect(ok).toHaveLength(25);
    expect(results.filter((r) => r.res.errors).map((r) => code(r.res))).toEqual(Array(25).fill('INSUFFICIENT_FUNDS'));
    const redeemed = ok.filter((r) => r.kind === 'redeem').length;
    const held = ok.filter((r) => r.kind === 'hold').length;

    expect(await account(memberId)).toEqual({ balance: 255 - 10 * redeemed, held: 10 * held });
    const [lots] = await sql<{ remaining: string }>('SELECT SUM(remaining) AS remaining FROM points_lot WHERE member_id = ?', [memberId]);
    expect(Number(lots!.remaining)).toBe(5);
    const [reward] = await sql<{ stock: number; redeemed: number }>('SELECT stock, redeemed FROM points_reward WHERE id = ?', [rewardId]);
    expect(reward).toEqual({ stock: 1000 - redeemed, redeemed });
    const entries = await sql<{ type: string; n: string }>('SELECT type, COUNT(*) AS n FROM points_entry WHERE member_id = ? GROUP BY type ORDER BY type', [memberId]);
    expect(entries.map((e) => [e.type, Number(e.n)])).toEqual([
      ['EARN', 2],
      ...(held ? [['HOLD', held]] : []),
      ...(redeemed ? [['SPEND', redeemed]] : []),
    ]);
    await memberIsClean(memberId);
  });
});

describe('anti-fraud: the IP velocity rule', () => {
  it('holds for review the earning of the third member from one IP address within the hour, crediting nothing', async () => {
    const integration = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'reviews-app', scopes: ['points:award'] });
    const members = [newId(), newId(), newId()];
    for (const m of members) await svc.app.kit.uow((em) => projectTier(em, m, 'MEMBER', new Date()));
    const results = [];
    for (const [i, m] of members.entries()) {
      // Each on its own device: only the shared address links them.
      const res = await gql(svc.url, AWARD, { input: { memberId: m, type: 'REVIEW', reference: `ip-${m}`, deviceId: `device-${i}`, ip: '198.51.100.7' } }, integration);
      expect(res.errors).toBeUndefined();
      results.push(res.data.awardBehaviourPoints);
    }
    expect(results.map((r) => r.reviewId === null)).toEqual([true, true, false]);
    expect(results[2]).toMatchObject({ granted: 10, entryId: null });
    expect(await sql('SELECT 1 FROM points_entry WHERE member_id = ?', [members[2]])).toEqual([]);
    const reviews = await gql(svc.url, REVIEWS, {}, support);
    const held = reviews.data.pointsReviews.edges.map((e: { node: { memberId: string } }) => e.node).filter((n: { memberId: string }) => n.memberId === members[2]);
    expect(held).toEqual([expect.objectContaining({ rule: 'REVIEW', points: 10, flaggedBy: 'IP', status: 'PENDING' })]);
    // Another address is not affected.
    const elsewhere = newId();
    await svc.app.kit.uow((em) => projectTier(em, elsewhere, 'MEMBER', new Date()));
    const other = await gql(svc.url, AWARD, { input: { memberId: elsewhere, type: 'REVIEW', reference: `ip-${elsewhere}`, ip: '198.51.100.8' } }, integration);
    expect(other.data.awardBehaviourPoints).toMatchObject({ granted: 10, reviewId: null });
  });
});
