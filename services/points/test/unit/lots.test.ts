import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NotEnoughInLotsError, fifoOrder, pickLots, type Lot } from '../../src/domain/lots';

const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000);
const lot = (id: string, remaining: number, expiresDay: number, earnedDay = 0): Lot => ({ id, remaining, expiresAt: day(expiresDay), earnedAt: day(earnedDay) });

const lotArb = fc.record({
  id: fc.string({ minLength: 1, maxLength: 4 }),
  remaining: fc.integer({ min: 0, max: 1_000 }),
  expiresAt: fc.integer({ min: 0, max: 30 }).map(day),
  earnedAt: fc.integer({ min: -30, max: 0 }).map(day),
});
const lotsArb = fc.uniqueArray(lotArb, { selector: (l) => l.id, maxLength: 12 });

describe('pickLots', () => {
  it('spends the lots that expire soonest first', () => {
    const lots = [lot('late', 50, 300), lot('soon', 30, 10), lot('mid', 40, 100)];
    expect(pickLots(lots, 60)).toEqual([
      { lotId: 'soon', amount: 30 },
      { lotId: 'mid', amount: 30 },
    ]);
  });

  it('breaks expiry ties by earn time', () => {
    const lots = [lot('second', 10, 50, -1), lot('first', 10, 50, -5)];
    expect(pickLots(lots, 15)).toEqual([
      { lotId: 'first', amount: 10 },
      { lotId: 'second', amount: 5 },
    ]);
  });

  it('skips empty lots and refuses to take more than the lots hold', () => {
    expect(pickLots([lot('empty', 0, 1), lot('a', 5, 2)], 5)).toEqual([{ lotId: 'a', amount: 5 }]);
    expect(() => pickLots([lot('a', 5, 2)], 6)).toThrow(NotEnoughInLotsError);
    expect(() => pickLots([lot('a', 5, 2)], 0)).toThrow(RangeError);
    expect(() => pickLots([lot('a', 5, 2)], 1.5)).toThrow(RangeError);
  });

  it('draws exactly the amount, each draw positive and within its lot, emptying lots in FIFO order', () => {
    fc.assert(
      fc.property(lotsArb, fc.integer({ min: 1, max: 20_000 }), (lots, amount) => {
        const available = lots.reduce((s, l) => s + l.remaining, 0);
        if (amount > available) {
          expect(() => pickLots(lots, amount)).toThrow(NotEnoughInLotsError);
          return;
        }
        const draws = pickLots(lots, amount);
        expect(draws.reduce((s, d) => s + d.amount, 0)).toBe(amount);
        const byId = new Map(lots.map((l) => [l.id, l]));
        for (const d of draws) {
          expect(d.amount).toBeGreaterThan(0);
          expect(d.amount).toBeLessThanOrEqual(byId.get(d.lotId)!.remaining);
        }
        // Every lot before the last one drawn (in FIFO order) is emptied; no lot after it is touched.
        const order = lots.filter((l) => l.remaining > 0).sort(fifoOrder);
        expect(draws.map((d) => d.lotId)).toEqual(order.slice(0, draws.length).map((l) => l.id));
        draws.slice(0, -1).forEach((d) => expect(d.amount).toBe(byId.get(d.lotId)!.remaining));
      }),
    );
  });

  it('does not depend on the order the lots are given in', () => {
    fc.assert(
      fc.property(lotsArb, fc.integer({ min: 1, max: 500 }), (lots, amount) => {
        const available = lots.reduce((s, l) => s + l.remaining, 0);
        fc.pre(amount <= available);
        expect(pickLots([...lots].reverse(), amount)).toEqual(pickLots(lots, amount));
      }),
    );
  });
});
