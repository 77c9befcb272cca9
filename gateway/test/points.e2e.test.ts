/**
 * Points end to end through the gateway, with all five subgraphs in-process on real MySQL and NATS:
 * a GOLD member orders on member day and earns multiplied points, a partial refund takes back its
 * share, expiry reminders go out and the expiry job takes the lots soonest-expiring first.
 */
import { describe, expect, it } from 'vitest';
import { eventually, gql } from '@membergraph/testkit';
import { platformUnderTest } from './support/platform';

const platform = platformUnderTest();
const DAY = 86_400_000;

const POINTS = `query($id: ID!) { member(id: $id) { id tier { code } points {
  balance available lifetimeEarned
  expiringSoon(days: 366) { amount expiresAt }
  history(first: 20) { edges { node { type amount balanceAfter reason reference } } }
} } }`;

/** The day of the month in the tenant time zone (config default Asia/Shanghai), as member day promotions read it. */
const dayOfMonth = (at: Date) => Number(new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', day: 'numeric' }).format(at));

async function points(id: string) {
  const res = await gql(platform.url, POINTS, { id }, platform.admin);
  expect(res.errors).toBeUndefined();
  const p = res.data.member.points;
  return { ...p, history: p.history.edges.map((e: { node: unknown }) => e.node) };
}

describe('a GOLD member earning on member day, refunding part of it, and their points expiring', () => {
  let id: string;
  const completedAt = new Date();

  it('earns 1 point a yuan x1.5 for GOLD x2 on member day: 128.50 yuan -> 384 points', async () => {
    const reg = await gql(platform.url, `mutation { registerMember(input: {phone: "+8613800000999", name: "Li Na", channel: STORE}) { id } }`, undefined, platform.admin);
    expect(reg.errors).toBeUndefined();
    id = reg.data.registerMember.id;
    const tier = await gql(platform.url, `mutation($m: ID!) { setMemberTier(input: {memberId: $m, tier: "GOLD", reason: "VIP onboarding"}) { tier { code } } }`, { m: id }, platform.admin);
    expect(tier.errors).toBeUndefined();
    expect(tier.data.setMemberTier.tier.code).toBe('GOLD');
    const rules = await gql(
      platform.url,
      `mutation($input: EarnRulesInput!) { updateEarnRules(input: $input) { version promotions { code dayOfMonth } } }`,
      {
        input: {
          basePointsPerYuan: 1,
          tierMultipliers: [
            { tier: 'MEMBER', perMille: 1000 },
            { tier: 'SILVER', perMille: 1200 },
            { tier: 'GOLD', perMille: 1500 },
            { tier: 'DIAMOND', perMille: 2000 },
          ],
          promotions: [{ code: 'MEMBER_DAY', name: 'Member day double points', multiplierPerMille: 2000, dayOfMonth: dayOfMonth(completedAt) }],
        },
      },
      platform.admin,
    );
    expect(rules.errors).toBeUndefined();
    // The welcome bonus arrives through member.registered.
    await eventually(async () => expect((await points(id)).balance).toBe(100));

    const order = await gql(
      platform.url,
      `mutation($input: RecordOrderInput!) { recordOrder(input: $input) { id } }`,
      { input: { source: 'pos', externalId: 'PT-1', memberId: id, amount: 12_850, storeId: 's1', channel: 'STORE', completedAt: completedAt.toISOString() } },
      platform.admin,
    );
    expect(order.errors).toBeUndefined();
    await eventually(async () => expect((await points(id)).balance).toBe(484));
    const p = await points(id);
    expect(p).toMatchObject({ available: 484, lifetimeEarned: 484 });
    expect(p.history[0]).toMatchObject({ type: 'EARN', amount: 384, balanceAfter: 484, reason: 'ORDER', reference: order.data.recordOrder.id });
  });

  it('takes back half the order\'s points when half the order is refunded', async () => {
    const refund = await gql(
      platform.url,
      `mutation($input: RecordRefundInput!) { recordRefund(input: $input) { amount } }`,
      { input: { source: 'pos', externalOrderId: 'PT-1', refundId: 'PT-RF-1', amount: 6_425 } },
      platform.admin,
    );
    expect(refund.errors).toBeUndefined();
    await eventually(async () => expect((await points(id)).balance).toBe(292));
    const p = await points(id);
    expect(p.history[0]).toMatchObject({ type: 'REVERSE', amount: -192, balanceAfter: 292, reason: 'REFUND' });
    // Lifetime earnings are what was earned; the reversal is its own entry.
    expect(p.lifetimeEarned).toBe(484);
  });

  it('reminds 30 days ahead, then expires the lot that expires first, then the rest', async () => {
    const soon = (await points(id)).expiringSoon as Array<{ amount: number; expiresAt: string }>;
    // The welcome lot was earned first, so it expires first (rolling 12 months); the order's lot keeps what the refund left.
    expect(soon.map((s) => s.amount)).toEqual([100, 192]);
    const [first, second] = soon.map((s) => new Date(s.expiresAt));
    expect(first!.getTime()).toBeLessThan(second!.getTime());

    const remind = await gql(platform.url, `mutation($asOf: DateTime!) { runExpiryReminders(asOf: $asOf) { reminders lots } }`, { asOf: new Date(first!.getTime() - 10 * DAY).toISOString() }, platform.admin);
    expect(remind.errors).toBeUndefined();
    expect(remind.data.runExpiryReminders).toEqual({ reminders: 1, lots: 2 });
    // Each lot is reminded once per threshold: the same run again finds nothing new.
    const again = await gql(platform.url, `mutation($asOf: DateTime!) { runExpiryReminders(asOf: $asOf) { reminders lots } }`, { asOf: new Date(first!.getTime() - 10 * DAY).toISOString() }, platform.admin);
    expect(again.data.runExpiryReminders).toEqual({ reminders: 0, lots: 0 });

    const EXPIRE = `mutation($asOf: DateTime!) { runPointsExpiry(asOf: $asOf) { membersAffected lotsExpired pointsExpired } }`;
    const atFirst = await gql(platform.url, EXPIRE, { asOf: first!.toISOString() }, platform.admin);
    expect(atFirst.data.runPointsExpiry).toEqual({ membersAffected: 1, lotsExpired: 1, pointsExpired: 100 });
    const farFuture = await gql(platform.url, EXPIRE, { asOf: new Date(Date.now() + 3 * 365 * DAY).toISOString() }, platform.admin);
    expect(farFuture.data.runPointsExpiry).toEqual({ membersAffected: 1, lotsExpired: 1, pointsExpired: 192 });
    const p = await points(id);
    expect(p).toMatchObject({ balance: 0, available: 0, lifetimeEarned: 484, expiringSoon: [] });
    expect(p.history.slice(0, 2)).toEqual([
      { type: 'EXPIRE', amount: -192, balanceAfter: 0, reason: 'EXPIRY', reference: expect.any(String) },
      { type: 'EXPIRE', amount: -100, balanceAfter: 192, reason: 'EXPIRY', reference: expect.any(String) },
    ]);
    const audit = await gql(platform.url, `{ pointsAudit { ok differences { kind detail } } }`, undefined, platform.admin);
    expect(audit.data.pointsAudit).toEqual({ ok: true, differences: [] });
  });
});
