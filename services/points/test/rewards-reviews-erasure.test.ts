import { describe, expect, it } from 'vitest';
import { STREAMS, Role, newId } from '@membergraph/platform';
import { eventually, gql, memberEvents, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { auditPoints } from '../src/services/points-audit.service';
import { creditPoints } from '../src/services/points-ledger.service';
import { projectTier } from '../src/services/earn-rules.service';

// Tight velocity rules so a handful of earnings trips them: 3 earnings or 1,000 points per member and
// hour, 2 members per device; the IP rule off. No welcome bonus, so balances are what the test seeds.
const svc = serviceUnderTest('points', createApp, {
  probe: STREAMS.member,
  probeName: 'points-rewards-test',
  env: {
    HOLD_SWEEP_INTERVAL_MS: '0',
    PENDING_RELEASE_INTERVAL_MS: '0',
    WELCOME_POINTS: '0',
    EARN_VELOCITY_MAX_EVENTS: '3',
    EARN_VELOCITY_MAX_POINTS: '1000',
    EARN_VELOCITY_MAX_MEMBERS_PER_DEVICE: '2',
    EARN_VELOCITY_MAX_MEMBERS_PER_IP: '0',
  },
});
const CONSUMER = 'points-member';
const DAY = 86_400_000;

const CREATE = `mutation($input: CreateRewardInput!) { createReward(input: $input) { id name type cost stock redeemed perMemberLimit tiers couponTemplateId } }`;
const REDEEM = `mutation($input: RedeemRewardInput!) { redeemReward(input: $input) { id rewardId memberId rewardType quantity points entryId status } }`;
const FULFIL = `mutation($input: UpdateRedemptionFulfilmentInput!) { updateRedemptionFulfilment(input: $input) { id status note } }`;
const REWARDS = `{ rewards { id name stock } }`;
const REVIEWS = `query($status: PointsReviewStatus) { pointsReviews(status: $status, first: 50) { edges { node { id memberId rule reference points flaggedBy detail status decidedBy entryId } } } }`;
const APPROVE = `mutation($input: DecidePointsReviewInput!) { approvePointsReview(input: $input) { id status decidedBy note entryId } }`;
const REJECT = `mutation($input: DecidePointsReviewInput!) { rejectPointsReview(input: $input) { id status decidedBy note entryId } }`;
const AWARD = `mutation($input: AwardBehaviourPointsInput!) { awardBehaviourPoints(input: $input) { granted entryId reviewId } }`;

const code = (res: { errors?: Array<{ extensions?: { code?: string } }> }) => res.errors?.[0]?.extensions?.code;
const operator = () => tokenFor([Role.OPERATOR], { sub: 'op-1' });
const support = () => tokenFor([Role.SUPPORT], { sub: 'support-1' });
const memberToken = (memberId: string) => tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return svc.app.kit.ds.query(query, params);
}

async function memberWithLots(lots: Array<{ amount: number; daysAgo: number }>, tier = 'MEMBER'): Promise<string> {
  const memberId = newId();
  await svc.app.kit.uow((em) => projectTier(em, memberId, tier, new Date()));
  for (const [i, l] of lots.entries()) {
    await svc.app.kit.uow((em) =>
      creditPoints(svc.app.kit, em, { memberId, type: 'EARN', amount: l.amount, reason: 'ORDER', reference: `o${i}`, idempotencyKey: `seed:${memberId}:${i}`, at: new Date(Date.now() - l.daysAgo * DAY) }),
    );
  }
  return memberId;
}

async function balance(memberId: string) {
  const [row] = await sql<{ balance: string }>('SELECT balance FROM points_account WHERE member_id = ?', [memberId]);
  return Number(row?.balance ?? 0);
}

async function remainingLots(memberId: string) {
  const rows = await sql<{ remaining: string }>('SELECT remaining FROM points_lot WHERE member_id = ? ORDER BY expires_at, earned_at', [memberId]);
  return rows.map((r) => Number(r.remaining));
}

async function outboxData(type: string, memberId: string) {
  const rows = await sql<{ payload: string }>('SELECT payload FROM outbox WHERE type = ? AND subject = ? ORDER BY seq', [type, memberId]);
  return rows.map((r) => JSON.parse(r.payload).data);
}

async function memberIsClean(memberId: string) {
  const audit = await auditPoints(svc.app.kit.ds.manager);
  expect(audit.differences.filter((d) => d.memberId === memberId)).toEqual([]);
}

async function reward(input: Record<string, unknown>) {
  const res = await gql(svc.url, CREATE, { input: { name: 'Latte', type: 'VIRTUAL', cost: 100, stock: 10, ...input } }, await operator());
  expect(res.errors).toBeUndefined();
  return res.data.createReward as { id: string };
}

const redeem = async (memberId: string, rewardId: string, quantity = 1, idempotencyKey = newId()) =>
  gql(svc.url, REDEEM, { input: { rewardId, quantity, idempotencyKey } }, await memberToken(memberId));

describe('reward catalogue', () => {
  it('lets OPERATOR add rewards and names the bad field; a member may not', async () => {
    const bad = await gql(svc.url, CREATE, { input: { name: 'Mug', type: 'COUPON', cost: 10, stock: 5 } }, await operator());
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'couponTemplateId' });
    const negative = await gql(svc.url, CREATE, { input: { name: 'Mug', type: 'GIFT', cost: 0, stock: 5 } }, await operator());
    expect(negative.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'cost' });
    const byMember = await gql(svc.url, CREATE, { input: { name: 'Mug', type: 'GIFT', cost: 10, stock: 5 } }, await memberToken(newId()));
    expect(code(byMember)).toBe('FORBIDDEN');
    const created = await gql(svc.url, CREATE, { input: { name: 'Mug', type: 'GIFT', cost: 10, stock: 5, perMemberLimit: 2, tiers: ['GOLD', 'DIAMOND'] } }, await operator());
    expect(created.errors).toBeUndefined();
    expect(created.data.createReward).toMatchObject({ name: 'Mug', type: 'GIFT', cost: 10, stock: 5, redeemed: 0, perMemberLimit: 2, tiers: ['GOLD', 'DIAMOND'], couponTemplateId: null });
    const [auditRow] = await sql<{ actor: string; action: string }>('SELECT actor, action FROM audit_log WHERE target = ?', [created.data.createReward.id]);
    expect(auditRow).toEqual({ actor: 'op-1', action: 'points.reward.create' });
  });

  it('redeems a VIRTUAL reward FIFO from the lots, grants it at once and announces it; the same key replays', async () => {
    const memberId = await memberWithLots([{ amount: 150, daysAgo: 10 }, { amount: 100, daysAgo: 300 }]);
    const { id: rewardId } = await reward({ cost: 60, stock: 10 });
    const key = newId();
    const first = await redeem(memberId, rewardId, 2, key);
    expect(first.errors).toBeUndefined();
    expect(first.data.redeemReward).toMatchObject({ rewardId, memberId, rewardType: 'VIRTUAL', quantity: 2, points: 120, status: 'GRANTED' });
    expect(await balance(memberId)).toBe(130);
    // The lot expiring first (earned 300 days ago) is emptied before the newer one is touched.
    expect(await remainingLots(memberId)).toEqual([0, 130]);
    const again = await redeem(memberId, rewardId, 2, key);
    expect(again.data.redeemReward).toEqual(first.data.redeemReward);
    expect(code(await redeem(memberId, rewardId, 1, key))).toBe('CONFLICT');
    const [row] = await sql<{ stock: number; redeemed: number }>('SELECT stock, redeemed FROM points_reward WHERE id = ?', [rewardId]);
    expect(row).toEqual({ stock: 8, redeemed: 2 });
    const [spend] = await sql<{ type: string; amount: string; reason: string; reference: string }>('SELECT type, amount, reason, reference FROM points_entry WHERE id = ?', [first.data.redeemReward.entryId]);
    expect({ ...spend, amount: Number(spend!.amount) }).toEqual({ type: 'SPEND', amount: -120, reason: 'REDEMPTION', reference: first.data.redeemReward.id });
    expect(await outboxData('points.reward_redeemed', memberId)).toEqual([
      expect.objectContaining({ redemptionId: first.data.redeemReward.id, rewardType: 'VIRTUAL', quantity: 2, points: 120, couponTemplateId: null }),
    ]);
    await memberIsClean(memberId);
  });

  it('asks marketing for a COUPON through points.reward_redeemed', async () => {
    const memberId = await memberWithLots([{ amount: 500, daysAgo: 1 }]);
    const { id: rewardId } = await reward({ name: '20 off', type: 'COUPON', cost: 200, couponTemplateId: 'TPL-20OFF' });
    const res = await redeem(memberId, rewardId);
    expect(res.data.redeemReward).toMatchObject({ rewardType: 'COUPON', status: 'COUPON_REQUESTED', points: 200 });
    expect(await outboxData('points.reward_redeemed', memberId)).toEqual([
      expect.objectContaining({ memberId, rewardId, rewardType: 'COUPON', quantity: 1, points: 200, couponTemplateId: 'TPL-20OFF', entryId: res.data.redeemReward.entryId }),
    ]);
  });

  it('refuses what the terms forbid: tier, validity, per-member limit, stock and funds, writing nothing', async () => {
    const gold = await memberWithLots([{ amount: 1000, daysAgo: 1 }], 'GOLD');
    const plain = await memberWithLots([{ amount: 1000, daysAgo: 1 }]);
    const { id: goldOnly } = await reward({ cost: 10, stock: 100, perMemberLimit: 3, tiers: ['GOLD'] });
    expect(code(await redeem(plain, goldOnly))).toBe('FORBIDDEN');
    expect((await redeem(gold, goldOnly, 2)).errors).toBeUndefined();
    const over = await redeem(gold, goldOnly, 2);
    expect(over.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'MEMBER_LIMIT', field: 'quantity' });
    const { id: later } = await reward({ validFrom: new Date(Date.now() + DAY).toISOString() });
    expect((await redeem(plain, later)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'NOT_AVAILABLE' });
    const { id: scarce } = await reward({ stock: 1 });
    expect((await redeem(plain, scarce, 2)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'OUT_OF_STOCK' });
    const { id: dear } = await reward({ cost: 5000 });
    expect(code(await redeem(plain, dear))).toBe('INSUFFICIENT_FUNDS');
    expect(code(await redeem(plain, newId()))).toBe('NOT_FOUND');
    expect(await balance(plain)).toBe(1000);
    const visible = await gql(svc.url, REWARDS, {}, await memberToken(plain));
    expect(visible.data.rewards.map((r: { id: string }) => r.id)).not.toContain(goldOnly);
    expect(visible.data.rewards.map((r: { id: string }) => r.id)).not.toContain(later);
    await memberIsClean(gold);
    await memberIsClean(plain);
  });

  it('never oversells: 50 members redeeming a stock of 10 at once get exactly 10 redemptions', async () => {
    const members = await Promise.all(Array.from({ length: 50 }, () => memberWithLots([{ amount: 100, daysAgo: 1 }])));
    const { id: rewardId } = await reward({ cost: 100, stock: 10 });
    const results = await Promise.all(members.map((m) => redeem(m, rewardId)));
    const ok = results.filter((r) => !r.errors);
    expect(ok).toHaveLength(10);
    expect(results.filter((r) => r.errors).map((r) => r.errors![0]!.extensions)).toEqual(Array(40).fill(expect.objectContaining({ code: 'CONFLICT', reason: 'OUT_OF_STOCK' })));
    const [row] = await sql<{ stock: number; redeemed: number }>('SELECT stock, redeemed FROM points_reward WHERE id = ?', [rewardId]);
    expect(row).toEqual({ stock: 0, redeemed: 10 });
    const [count] = await sql<{ n: string }>('SELECT COUNT(*) AS n FROM points_redemption WHERE reward_id = ?', [rewardId]);
    expect(Number(count!.n)).toBe(10);
    const balances = await Promise.all(members.map(balance));
    expect(balances.filter((b) => b === 0)).toHaveLength(10);
    expect(balances.filter((b) => b === 100)).toHaveLength(40);
    expect((await auditPoints(svc.app.kit.ds.manager)).ok).toBe(true);
  });

  it('one member firing 20 redemptions at once spends only what they have', async () => {
    const memberId = await memberWithLots([{ amount: 250, daysAgo: 1 }]);
    const { id: rewardId } = await reward({ cost: 50, stock: 100 });
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem(memberId, rewardId)));
    expect(results.filter((r) => !r.errors)).toHaveLength(5);
    expect(results.filter((r) => r.errors).every((r) => code(r) === 'INSUFFICIENT_FUNDS')).toBe(true);
    expect(await balance(memberId)).toBe(0);
    await memberIsClean(memberId);
  });

  it('moves a GIFT through its fulfilment forward only, audited', async () => {
    const memberId = await memberWithLots([{ amount: 300, daysAgo: 1 }]);
    const { id: rewardId } = await reward({ name: 'Tote bag', type: 'GIFT', cost: 300 });
    const res = await redeem(memberId, rewardId);
    expect(res.data.redeemReward.status).toBe('PENDING');
    const redemptionId = res.data.redeemReward.id;
    const shipped = await gql(svc.url, FULFIL, { input: { redemptionId, status: 'SHIPPED', note: 'SF 123' } }, await operator());
    expect(shipped.data.updateRedemptionFulfilment).toEqual({ id: redemptionId, status: 'SHIPPED', note: 'SF 123' });
    expect(code(await gql(svc.url, FULFIL, { input: { redemptionId, status: 'PENDING' } }, await operator()))).toBe('CONFLICT');
    expect(code(await gql(svc.url, FULFIL, { input: { redemptionId, status: 'DELIVERED' } }, await support()))).toBe('FORBIDDEN');
    const delivered = await gql(svc.url, FULFIL, { input: { redemptionId, status: 'DELIVERED' } }, await operator());
    expect(delivered.data.updateRedemptionFulfilment.status).toBe('DELIVERED');
    const trail = await sql<{ action: string; actor: string }>("SELECT action, actor FROM audit_log WHERE target = ? AND action = 'points.redemption.fulfilment' ORDER BY id", [memberId]);
    expect(trail).toEqual([
      { action: 'points.redemption.fulfilment', actor: 'op-1' },
      { action: 'points.redemption.fulfilment', actor: 'op-1' },
    ]);
  });
});

async function orderEarned(memberId: string, amount: number) {
  const order = memberEvents.orderCompleted(memberId, amount);
  await svc.probe.consumed(CONSUMER, await svc.probe.publish(order));
  return order.data.orderId;
}

async function reviewsOf(memberId: string) {
  const res = await gql(svc.url, REVIEWS, {}, await support());
  expect(res.errors).toBeUndefined();
  return res.data.pointsReviews.edges.map((e: { node: { memberId: string } }) => e.node).filter((n: { memberId: string }) => n.memberId === memberId);
}

describe('anti-fraud: velocity rules hold earnings for review', () => {
  it('holds the 4th earning in an hour; approving credits it under the order key and applies its parked refund', async () => {
    const memberId = newId();
    for (let i = 0; i < 3; i++) await orderEarned(memberId, 10_000);
    expect(await balance(memberId)).toBe(300);
    const fourth = memberEvents.orderCompleted(memberId, 20_000);
    // Its refund arrives while the earning waits for a reviewer: parked.
    const refund = memberEvents.orderRefunded(memberId, fourth.data.orderId, 10_000, 20_000);
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(fourth));
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(refund));
    expect(await balance(memberId)).toBe(300);
    const [held] = await reviewsOf(memberId);
    expect(held).toMatchObject({ rule: 'ORDER', reference: fourth.data.orderId, points: 200, flaggedBy: 'EARN_COUNT', status: 'PENDING', entryId: null });
    expect(code(await gql(svc.url, APPROVE, { input: { reviewId: held.id } }, await operator()))).toBe('FORBIDDEN');
    const approved = await gql(svc.url, APPROVE, { input: { reviewId: held.id, note: 'regular customer' } }, await support());
    expect(approved.errors).toBeUndefined();
    expect(approved.data.approvePointsReview).toMatchObject({ status: 'APPROVED', decidedBy: 'support-1', note: 'regular customer', entryId: expect.any(String) });
    // 200 credited, then half of it reversed by the parked refund.
    expect(await balance(memberId)).toBe(400);
    const [earn] = await sql<{ type: string; idempotency_key: string; note: string }>('SELECT type, idempotency_key, note FROM points_entry WHERE id = ?', [approved.data.approvePointsReview.entryId]);
    expect(earn).toEqual({ type: 'EARN', idempotency_key: `order:${fourth.data.orderId}`, note: 'REVIEWED EARN_COUNT approved' });
    expect((await gql(svc.url, APPROVE, { input: { reviewId: held.id } }, await support())).data.approvePointsReview.status).toBe('APPROVED');
    expect(code(await gql(svc.url, REJECT, { input: { reviewId: held.id } }, await support()))).toBe('CONFLICT');
    const [trail] = await sql<{ actor: string; action: string }>("SELECT actor, action FROM audit_log WHERE target = ? AND action LIKE 'points.review.%'", [memberId]);
    expect(trail).toEqual({ actor: 'support-1', action: 'points.review.approve' });
    await memberIsClean(memberId);
  });

  it('holds an earning above the hourly points limit; rejecting it credits nothing and frees the day\'s caps', async () => {
    const memberId = newId();
    const orderId = await orderEarned(memberId, 200_000);
    expect(await balance(memberId)).toBe(0);
    const [held] = await reviewsOf(memberId);
    expect(held).toMatchObject({ reference: orderId, points: 2000, flaggedBy: 'EARN_POINTS', detail: '2000 points in the window, limit 1000' });
    const rejected = await gql(svc.url, REJECT, { input: { reviewId: held.id, note: 'test order' } }, await support());
    expect(rejected.data.rejectPointsReview).toMatchObject({ status: 'REJECTED', entryId: null });
    expect(await balance(memberId)).toBe(0);
    const [award] = await sql<{ granted: string; entry_id: string | null }>('SELECT granted, entry_id FROM points_award WHERE award_key = ?', [`order:${orderId}`]);
    expect({ granted: Number(award!.granted), entryId: award!.entry_id }).toEqual({ granted: 0, entryId: null });
    // A redelivered order does not come back for review or earn.
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(memberEvents.orderCompleted(memberId, 200_000, { orderId }), newId()));
    expect(await reviewsOf(memberId)).toHaveLength(1);
    expect(await balance(memberId)).toBe(0);
  });

  it('holds the third member earning from one device within the hour', async () => {
    const integration = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'reviews-app', scopes: ['points:award'] });
    const members = [newId(), newId(), newId()];
    for (const m of members) await svc.app.kit.uow((em) => projectTier(em, m, 'MEMBER', new Date()));
    const results = [];
    for (const m of members) {
      const res = await gql(svc.url, AWARD, { input: { memberId: m, type: 'REVIEW', reference: `rv-${m}`, deviceId: 'device-42', ip: '203.0.113.9' } }, integration);
      expect(res.errors).toBeUndefined();
      results.push(res.data.awardBehaviourPoints);
    }
    expect(results.map((r) => r.reviewId === null)).toEqual([true, true, false]);
    expect(results[2]).toMatchObject({ granted: 10, entryId: null });
    const [held] = await reviewsOf(members[2]!);
    expect(held).toMatchObject({ rule: 'REVIEW', flaggedBy: 'DEVICE', points: 10 });
    const badIp = await gql(svc.url, AWARD, { input: { memberId: members[0], type: 'SHARE', reference: newId(), ip: 'not-an-ip' } }, integration);
    expect(badIp.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ip' });
  });
});

describe('member.erased', () => {
  it('anonymises the account: marked erased, tier and devices dropped, totals kept, no more earning', async () => {
    const memberId = await memberWithLots([{ amount: 120, daysAgo: 5 }], 'GOLD');
    await svc.app.kit.uow((em) => projectTier(em, memberId, 'GOLD', new Date()));
    const integration = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'reviews-app', scopes: ['points:award'] });
    await gql(svc.url, AWARD, { input: { memberId, type: 'SHARE', reference: `sh-${memberId}`, deviceId: 'device-e', ip: '198.51.100.7' } }, integration);
    const before = await sql<Record<string, string>>('SELECT balance, lifetime_earned, held FROM points_account WHERE member_id = ?', [memberId]);
    const erased = memberEvents.erased(memberId);
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(erased));
    expect(await sql('SELECT balance, lifetime_earned, held FROM points_account WHERE member_id = ?', [memberId])).toEqual(before);
    const [account] = await sql<{ erased_at: Date | null }>('SELECT erased_at FROM points_account WHERE member_id = ?', [memberId]);
    expect(new Date(account!.erased_at!).toISOString()).toBe(erased.data.erasedAt);
    expect(await sql('SELECT * FROM points_member_tier WHERE member_id = ?', [memberId])).toEqual([]);
    expect(await sql('SELECT status FROM points_member_status WHERE member_id = ?', [memberId])).toEqual([{ status: 'ERASED' }]);
    expect(await sql('SELECT device_id, ip FROM points_earn_signal WHERE member_id = ?', [memberId])).toEqual([{ device_id: null, ip: null }]);
    // A late status event cannot bring the member back.
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(memberEvents.statusChanged(memberId, 'FROZEN', 'ACTIVE')));
    expect(await sql('SELECT status FROM points_member_status WHERE member_id = ?', [memberId])).toEqual([{ status: 'ERASED' }]);
    await orderEarned(memberId, 50_000);
    expect(await sql('SELECT balance, lifetime_earned, held FROM points_account WHERE member_id = ?', [memberId])).toEqual(before);
    const read = await gql(svc.url, `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { points { balance erasedAt } } } }`, { reps: [{ __typename: 'Member', id: memberId }] }, await support());
    expect(read.data._entities[0].points).toEqual({ balance: Number(before[0]!.balance), erasedAt: erased.data.erasedAt });
    await memberIsClean(memberId);
    await eventually(async () => expect((await auditPoints(svc.app.kit.ds.manager)).ok).toBe(true));
  });
});
