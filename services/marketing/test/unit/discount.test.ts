import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { couponDiscount, fixedAmount } from '../../src/domain/discount';

describe('couponDiscount, fixed amount', () => {
  it('takes the coupon amount off an order larger than it', () => {
    expect(couponDiscount(fixedAmount(1500), 10_000)).toBe(1500);
  });

  it('never takes off more than the order: a 15 yuan coupon on a 9.99 yuan order gives 9.99', () => {
    expect(couponDiscount(fixedAmount(1500), 999)).toBe(999);
    expect(couponDiscount(fixedAmount(1500), 1500)).toBe(1500);
  });

  it('is always between 0 and both the order and the coupon amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 1_000_000_000 }), (amount, order) => {
        const d = couponDiscount(fixedAmount(amount), order);
        expect(Number.isSafeInteger(d)).toBe(true);
        expect(d).toBe(Math.min(amount, order));
        expect(order - d).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('refuses amounts that are not whole fen', () => {
    expect(() => couponDiscount(fixedAmount(100), 10.5)).toThrow(RangeError);
    expect(() => couponDiscount(fixedAmount(100), -1)).toThrow(RangeError);
    expect(() => couponDiscount(fixedAmount(1.5), 100)).toThrow(RangeError);
  });
});
