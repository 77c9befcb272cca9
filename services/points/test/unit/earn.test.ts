import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pointsForOrder } from '../../src/domain/earn';

const fen = fc.maxSafeNat();
const rate = fc.integer({ min: 0, max: 1_000 });

describe('pointsForOrder', () => {
  it('earns one point per whole yuan paid: 12850 fen -> 128 points', () => {
    expect(pointsForOrder(12850, { pointsPerYuan: 1 })).toBe(128);
  });

  it('earns nothing under one yuan', () => {
    expect(pointsForOrder(0, { pointsPerYuan: 1 })).toBe(0);
    expect(pointsForOrder(99, { pointsPerYuan: 1 })).toBe(0);
    expect(pointsForOrder(100, { pointsPerYuan: 1 })).toBe(1);
  });

  it('multiplies whole yuan by the rate, never the fen', () => {
    expect(pointsForOrder(12850, { pointsPerYuan: 3 })).toBe(384);
    expect(pointsForOrder(199, { pointsPerYuan: 10 })).toBe(10);
  });

  it('is never negative', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), rate, (amount, r) => {
        expect(pointsForOrder(amount, { pointsPerYuan: r })).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('is monotone in the amount paid', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 1e12 }), rate, (a, b, r) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(pointsForOrder(lo, { pointsPerYuan: r })).toBeLessThanOrEqual(pointsForOrder(hi, { pointsPerYuan: r }));
      }),
    );
  });

  it('is exact across the whole safe integer range (no float rounding up)', () => {
    fc.assert(
      fc.property(fen, (amount) => {
        const points = pointsForOrder(amount, { pointsPerYuan: 1 });
        expect(BigInt(points)).toBe(BigInt(amount) / 100n);
      }),
    );
    expect(pointsForOrder(Number.MAX_SAFE_INTEGER, { pointsPerYuan: 1 })).toBe(90071992547409);
  });

  it('refuses amounts that are not whole, non-negative fen', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => pointsForOrder(bad, { pointsPerYuan: 1 })).toThrow(RangeError);
    }
    expect(() => pointsForOrder(100, { pointsPerYuan: -1 })).toThrow(RangeError);
    expect(() => pointsForOrder(100, { pointsPerYuan: 1.2 })).toThrow(RangeError);
  });
});
