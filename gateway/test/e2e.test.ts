/**
 * End to end through the gateway with all five real subgraphs in-process, on real MySQL and NATS:
 * the foundation's acceptance scenario.
 */
import { describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { eventually, gql, tokenFor } from '@membergraph/testkit';
import { platformUnderTest } from './support/platform';

const MEMBER_CARD = `query($id: ID!) {
  member(id: $id) {
    id name
    points { balance }
    wallet { balance }
    coupons { code status }
    insights { orderCount totalSpend }
  }
}`;

const platform = platformUnderTest();

describe('a member registered at a store and buying once', () => {
  it('shows 228 points, an empty wallet, one welcome coupon and the order in insights; a replayed order changes nothing', async () => {
    const reg = await gql(platform.url, `mutation { registerMember(input: {phone: "+8613800000001", name: "Li Lei", channel: STORE}) { id phone tier { code } } }`, undefined, platform.admin);
    expect(reg.errors).toBeUndefined();
    expect(reg.data.registerMember).toMatchObject({ phone: '+8613800000001', tier: { code: 'MEMBER' } });
    const id: string = reg.data.registerMember.id;

    const order = `mutation($m: ID!) { recordOrder(input: {source: "pos", externalId: "A-1", memberId: $m, amount: 12850, storeId: "s1", channel: STORE}) { id amount } }`;
    const first = await gql(platform.url, order, { m: id }, platform.admin);
    expect(first.errors).toBeUndefined();
    expect(first.data.recordOrder.amount).toBe(12850);

    const expected = {
      id,
      name: 'Li Lei',
      points: { balance: 228 },
      wallet: { balance: 0 },
      coupons: [{ code: expect.any(String), status: 'ISSUED' }],
      insights: { orderCount: 1, totalSpend: 12850 },
    };
    await eventually(async () => {
      const card = await gql(platform.url, MEMBER_CARD, { id }, platform.admin);
      expect(card.errors).toBeUndefined();
      expect(card.data.member).toEqual(expected);
    });

    const again = await gql(platform.url, order, { m: id }, platform.admin);
    expect(again.data.recordOrder.id).toBe(first.data.recordOrder.id);
    // A later order for someone else is a barrier: once its effects are visible, anything the
    // replay could have caused (same streams, consumed in order) would be visible too.
    const barrier = await gql(platform.url, `mutation { registerMember(input: {phone: "+8613800000003", name: "Barrier", channel: WEB}) { id } }`, undefined, platform.admin);
    const barrierId: string = barrier.data.registerMember.id;
    await gql(platform.url, `mutation($m: ID!) { recordOrder(input: {source: "pos", externalId: "B-1", memberId: $m, amount: 100, channel: WEB}) { id } }`, { m: barrierId }, platform.admin);
    await eventually(async () => {
      const b = await gql(platform.url, MEMBER_CARD, { id: barrierId }, platform.admin);
      expect(b.data.member).toMatchObject({ points: { balance: 101 }, insights: { orderCount: 1 }, coupons: [{ status: 'ISSUED' }] });
    });
    const card = await gql(platform.url, MEMBER_CARD, { id }, platform.admin);
    expect(card.data.member).toEqual(expected);
  });

  it('refuses a request without a platform.admin, or with a forged one, with UNAUTHENTICATED', async () => {
    const anonymous = await gql(platform.url, `{ members(first: 1) { edges { node { id } } } }`);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const forged = await tokenFor([Role.ADMIN], {}, 'someone-elses-secret-that-is-long-enough');
    const refused = await gql(platform.url, `{ members(first: 1) { edges { node { id } } } }`, undefined, forged);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(refused.data ?? null).toBeNull();
  });

  it('keeps a member out of another member\'s points even through the gateway', async () => {
    const reg = await gql(platform.url, `mutation { registerMember(input: {phone: "+8613800000002", name: "Han Meimei", channel: WEB}) { id } }`, undefined, platform.admin);
    const other = await tokenFor([Role.MEMBER], { kind: 'member', sub: '01JOTHERMEMBER000000000000' });
    const res = await gql(platform.url, `query($id: ID!) { member(id: $id) { id points { balance } } }`, { id: reg.data.registerMember.id }, other);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
