import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkRedemption, decideFulfilment, validateReward, type RewardTerms } from '../../src/domain/rewards';
import { assessVelocity, decideReview } from '../../src/domain/fraud';

const terms: RewardTerms = { cost: 100, stock: 5, perMemberLimit: 2, validFrom: new Date('2026-01-01T00:00:00Z'), validUntil: new Date('2026-02-01T00:00:00Z'), tiers: ['GOLD'] };
const now = new Date('2026-01-15T00:00:00Z');

describe('checkRedemption', () => {
  it('prices cost x quantity when every term holds', () => {
    expect(checkRedemption(terms, { quantity: 2, tier: 'GOLD', now, redeemedByMember: 0 })).toEqual({ ok: true, points: 200 });
  });

  it('refuses outside the window (validUntil exclusive), another tier, beyond stock and beyond the member limit', () => {
    const ask = { quantity: 1, tier: 'GOLD', now, redeemedByMember: 0 };
    expect(checkRedemption(terms, { ...ask, now: terms.validUntil! })).toMatchObject({ ok: false, code: 'NOT_AVAILABLE' });
    expect(checkRedemption(terms, { ...ask, now: new Date('2025-12-31T23:59:59Z') })).toMatchObject({ ok: false, code: 'NOT_AVAILABLE' });
    expect(checkRedemption(terms, { ...ask, tier: 'SILVER' })).toMatchObject({ ok: false, code: 'TIER' });
    expect(checkRedemption({ ...terms, perMemberLimit: null }, { ...ask, quantity: 6 })).toMatchObject({ ok: false, code: 'OUT_OF_STOCK' });
    expect(checkRedemption(terms, { ...ask, redeemedByMember: 2 })).toMatchObject({ ok: false, code: 'MEMBER_LIMIT' });
  });

  it('never lets a member past their limit or the stock', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 20 }), (stock, limit, taken, quantity) => {
        const r = checkRedemption({ ...terms, stock, perMemberLimit: limit, tiers: null }, { quantity, tier: 'MEMBER', now, redeemedByMember: taken });
        if (r.ok) expect(quantity <= stock && taken + quantity <= limit).toBe(true);
        else expect(quantity > stock || taken + quantity > limit).toBe(true);
      }),
    );
  });
});

describe('validateReward and fulfilment', () => {
  it('names every bad field', () => {
    const v = validateReward({ name: '', type: 'COUPON', cost: 0, stock: -1, tiers: ['gold'], validFrom: now, validUntil: now });
    expect(v.map((x) => x.field)).toEqual(['name', 'cost', 'stock', 'validUntil', 'tiers', 'couponTemplateId']);
    expect(validateReward({ name: 'Mug', type: 'GIFT', cost: 10, stock: 1 })).toEqual([]);
  });

  it('moves a gift forward only', () => {
    expect(decideFulfilment('GIFT', 'PENDING', 'SHIPPED')).toBe('apply');
    expect(decideFulfilment('GIFT', 'PENDING', 'DELIVERED')).toBe('apply');
    expect(decideFulfilment('GIFT', 'SHIPPED', 'SHIPPED')).toBe('replay');
    expect(decideFulfilment('GIFT', 'DELIVERED', 'SHIPPED')).toBe('conflict');
    expect(decideFulfilment('VIRTUAL', 'GRANTED', 'SHIPPED')).toBe('conflict');
  });
});

describe('assessVelocity', () => {
  const limits = { maxEvents: 3, maxPoints: 1000, maxMembersPerDevice: 2, maxMembersPerIp: 0 };
  const none = { events: 0, points: 0, otherMembersOnDevice: 0, otherMembersOnIp: 0 };

  it('grants within every limit and names the first rule broken', () => {
    expect(assessVelocity(1000, { ...none, events: 2 }, limits)).toBeNull();
    expect(assessVelocity(10, { ...none, events: 3 }, limits)?.rule).toBe('EARN_COUNT');
    expect(assessVelocity(1001, none, limits)?.rule).toBe('EARN_POINTS');
    expect(assessVelocity(10, { ...none, otherMembersOnDevice: 2 }, limits)?.rule).toBe('DEVICE');
    // 0 turns a rule off.
    expect(assessVelocity(10, { ...none, otherMembersOnIp: 1_000 }, limits)).toBeNull();
  });

  it('decides a review once', () => {
    expect(decideReview('PENDING', 'APPROVED')).toBe('apply');
    expect(decideReview('APPROVED', 'APPROVED')).toBe('replay');
    expect(decideReview('REJECTED', 'APPROVED')).toBe('conflict');
  });
});
