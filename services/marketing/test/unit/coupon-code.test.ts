import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { COUPON_CODE_ALPHABET, COUPON_CODE_LENGTH, couponCodeFrom, newCouponCode } from '../../src/domain/coupon-code';

describe('coupon codes', () => {
  it('use 32 symbols with no look-alikes (0/O, 1/I)', () => {
    expect(new Set(COUPON_CODE_ALPHABET).size).toBe(32);
    for (const c of '01OI') expect(COUPON_CODE_ALPHABET).not.toContain(c);
  });

  it('are 12 symbols of the alphabet, whatever the random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: COUPON_CODE_LENGTH, maxLength: 32 }), (bytes) => {
        const code = couponCodeFrom(bytes);
        expect(code).toMatch(/^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{12}$/);
      }),
    );
  });

  it('map every byte value onto the alphabet evenly (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (let b = 0; b < 256; b++) {
      const symbol = couponCodeFrom(new Uint8Array(COUPON_CODE_LENGTH).fill(b))[0]!;
      counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
    }
    expect([...counts.values()]).toEqual(new Array(32).fill(8));
  });

  it('draw from the random source they are given', () => {
    expect(newCouponCode((n) => new Uint8Array(n))).toBe('222222222222');
    expect(newCouponCode((n) => new Uint8Array(n).fill(31))).toBe('ZZZZZZZZZZZZ');
  });

  it('do not repeat in practice', () => {
    const codes = new Set(Array.from({ length: 10_000 }, () => newCouponCode()));
    expect(codes.size).toBe(10_000);
  });

  it('refuse too few random bytes', () => {
    expect(() => couponCodeFrom(new Uint8Array(11))).toThrow(RangeError);
  });
});
