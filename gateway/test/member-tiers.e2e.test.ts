/**
 * Tiers and refunds end to end through the gateway, with all five subgraphs in-process on real
 * MySQL and NATS: orders lift a member to SILVER at once, a partial refund shows on the order and
 * in the member's rolling spend, and analytics still sees the orders it consumes.
 */
import { describe, expect, it } from 'vitest';
import { eventually, gql } from '@membergraph/testkit';
import { platformUnderTest } from './support/platform';

// With the DOMAIN.md defaults (1 growth a yuan, SILVER at 1,000 growth, GOLD at 5,000), growth
// reaches every rung before spend does: 5,000 yuan would make GOLD. Growth is switched off here so
// this test checks the spend threshold (SILVER at 5,000 yuan); growth has its own service tests.
const MEMBER_ENV = { GROWTH_PER_YUAN: '0' };

const platform = platformUnderTest({ member: MEMBER_ENV });

const CARD = `query($id: ID!) {
  member(id: $id) {
    tier { code }
    annualSpend
    orders(first: 10) { edges { node { externalId amount refundedAmount } } }
    insights { orderCount totalSpend }
  }
}`;
const ORDER = `mutation($input: RecordOrderInput!) { recordOrder(input: $input) { id amount } }`;

describe('a member buying their way to SILVER, then returning part of an order', () => {
  let id: string;

  it('reaches SILVER through the gateway once the orders add up to 5,000 yuan', async () => {
    const reg = await gql(platform.url, `mutation { registerMember(input: {phone: "+8613800000888", name: "Zhang Wei", channel: STORE}) { id tier { code } } }`, undefined, platform.admin);
    expect(reg.errors).toBeUndefined();
    expect(reg.data.registerMember.tier.code).toBe('MEMBER');
    id = reg.data.registerMember.id;

    const first = await gql(platform.url, ORDER, { input: { source: 'pos', externalId: 'T-1', memberId: id, amount: 300_000, storeId: 's1', channel: 'STORE', lines: [{ sku: 'COAT', category: 'apparel', quantity: 1, amount: 320_000 }] } }, platform.admin);
    expect(first.errors).toBeUndefined();
    expect((await gql(platform.url, CARD, { id }, platform.admin)).data.member).toMatchObject({ tier: { code: 'MEMBER' }, annualSpend: 300_000 });

    const second = await gql(platform.url, ORDER, { input: { source: 'pos', externalId: 'T-2', memberId: id, amount: 200_000, storeId: 's1', channel: 'STORE' } }, platform.admin);
    expect(second.errors).toBeUndefined();
    // The upgrade committed with the order: no waiting for events.
    const card = await gql(platform.url, CARD, { id }, platform.admin);
    expect(card.errors).toBeUndefined();
    expect(card.data.member).toMatchObject({ tier: { code: 'SILVER' }, annualSpend: 500_000 });

    // Analytics consumes order.completed.
    await eventually(async () => {
      const c = await gql(platform.url, CARD, { id }, platform.admin);
      expect(c.data.member.insights).toEqual({ orderCount: 2, totalSpend: 500_000 });
    });
  });

  it('shows a partial refund on the order and in the rolling spend, keeping the tier until the evaluation', async () => {
    const refund = await gql(
      platform.url,
      `mutation($input: RecordRefundInput!) { recordRefund(input: $input) { amount order { externalId refundedAmount } } }`,
      { input: { source: 'pos', externalOrderId: 'T-1', refundId: 'RF-1', amount: 50_000 } },
      platform.admin,
    );
    expect(refund.errors).toBeUndefined();
    expect(refund.data.recordRefund).toEqual({ amount: 50_000, order: { externalId: 'T-1', refundedAmount: 50_000 } });

    const card = await gql(platform.url, CARD, { id }, platform.admin);
    expect(card.data.member).toMatchObject({
      tier: { code: 'SILVER' },
      annualSpend: 450_000,
      orders: { edges: [{ node: { externalId: 'T-2', amount: 200_000, refundedAmount: 0 } }, { node: { externalId: 'T-1', amount: 300_000, refundedAmount: 50_000 } }] },
    });

    const over = await gql(platform.url, `mutation($input: RecordRefundInput!) { recordRefund(input: $input) { id } }`, { input: { source: 'pos', externalOrderId: 'T-1', refundId: 'RF-2', amount: 250_001 } }, platform.admin);
    expect(over.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount' });
  });
});
