import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bindRefusal, cardNumber, cardStatus, giftRefusal, luhnCheckDigit, luhnValid } from '../../src/domain/card';
import { businessDayBounds, pointsToGiveBack } from '../../src/domain/checkout';

const digitsFrom = (xs: number[]) => {
  let i = 0;
  return () => xs[i++ % xs.length]!;
};

describe('card numbers', () => {
  it('passes the Luhn check for known numbers and catches any single-digit change', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnCheckDigit('7992739871')).toBe(3);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 18 }), fc.integer({ min: 1, max: 9 }), (ds, pos, bump) => {
        const n = cardNumber(digitsFrom(ds));
        expect(n).toHaveLength(19);
        expect(luhnValid(n)).toBe(true);
        const changed = n.slice(0, pos) + String((Number(n[pos]) + bump) % 10) + n.slice(pos + 1);
        expect(luhnValid(changed)).toBe(false);
      }),
    );
  });
});

describe('card status and binding', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const card = { status: 'ACTIVE' as const, expiresAt: new Date('2031-01-01T00:00:00Z'), kind: 'ELECTRONIC' as const, giftedTo: null, boundMemberId: null };
  it('reads an unbound card past its expiry as EXPIRED, never a bound one', () => {
    expect(cardStatus({ ...card, expiresAt: now }, now)).toBe('EXPIRED');
    expect(cardStatus({ ...card, status: 'BOUND', expiresAt: now }, now)).toBe('BOUND');
  });
  it('lets only the gift recipient bind a gifted card, and says so to a repeat by the binder', () => {
    expect(bindRefusal(card, 'm1', now)).toBeNull();
    expect(bindRefusal({ ...card, giftedTo: 'm2' }, 'm1', now)).toBe('CARD_GIFTED');
    expect(bindRefusal({ ...card, giftedTo: 'm2' }, 'm2', now)).toBeNull();
    expect(bindRefusal({ ...card, status: 'BOUND', boundMemberId: 'm1' }, 'm1', now)).toBe('ALREADY_BOUND_TO_YOU');
    expect(giftRefusal({ ...card, kind: 'PHYSICAL' }, 'm1', 'm2', now)).toBe('NOT_ELECTRONIC');
    expect(giftRefusal(card, 'm1', 'm1', now)).toBe('GIFT_TO_SELF');
  });
});

describe('points given back by refunds', () => {
  it('never gives back more than was used, and all of it once the refunds are complete', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 1e7 }), fc.array(fc.integer({ min: 1, max: 1e6 }), { maxLength: 10 }), (points, paid, parts) => {
        let refunded = 0;
        let back = 0;
        for (const part of [...parts, paid]) {
          const amount = Math.min(part, paid - refunded);
          if (amount <= 0) break;
          const give = pointsToGiveBack(points, paid, refunded, refunded + amount, back);
          expect(give).toBeGreaterThanOrEqual(0);
          refunded += amount;
          back += give;
          expect(back).toBeLessThanOrEqual(points);
        }
        expect(back).toBe(points);
      }),
    );
  });
});

describe('business day bounds', () => {
  it('starts and ends at local midnight', () => {
    expect(businessDayBounds('2025-03-01', 'Asia/Shanghai')).toEqual({ start: new Date('2025-02-28T16:00:00Z'), end: new Date('2025-03-01T16:00:00Z') });
    expect(businessDayBounds('2025-03-09', 'America/New_York')).toEqual({ start: new Date('2025-03-09T05:00:00Z'), end: new Date('2025-03-10T04:00:00Z') });
    expect(businessDayBounds('2025-06-01', 'Pacific/Kiritimati')?.start).toEqual(new Date('2025-05-31T10:00:00Z'));
    expect(businessDayBounds('2025-02-30', 'Asia/Shanghai')).toBeNull();
    expect(businessDayBounds('yesterday', 'Asia/Shanghai')).toBeNull();
  });
});
