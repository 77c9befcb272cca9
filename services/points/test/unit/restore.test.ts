import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planGiveBack, type HoldDraw } from '../../src/domain/restore';

const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000);
const draw = (id: string, drawn: number, expiresDay: number): HoldDraw => ({ id, drawn, remaining: 0, expiresAt: day(expiresDay), earnedAt: day(-400) });

describe('planGiveBack', () => {
  it('gives the points back to the lots the hold drew from, the lot expiring last first', () => {
    const draws = [draw('soon', 30, 10), draw('late', 20, 300)];
    expect(planGiveBack(draws, 0, 25, day(0))).toEqual({ restore: [{ lotId: 'late', amount: 20 }, { lotId: 'soon', amount: 5 }], restored: 25, expired: 0 });
  });

  it('continues where an earlier give-back stopped', () => {
    const draws = [draw('soon', 30, 10), draw('late', 20, 300)];
    expect(planGiveBack(draws, 25, 25, day(0))).toEqual({ restore: [{ lotId: 'soon', amount: 25 }], restored: 25, expired: 0 });
  });

  it('does not revive a lot that expired meanwhile: that part is reported as expired', () => {
    const draws = [draw('gone', 30, 10), draw('late', 20, 300)];
    expect(planGiveBack(draws, 0, 50, day(10))).toEqual({ restore: [{ lotId: 'late', amount: 20 }], restored: 20, expired: 30 });
  });

  it('never gives back more than the hold spent', () => {
    expect(() => planGiveBack([draw('a', 10, 5)], 6, 5, day(0))).toThrow(RangeError);
  });

  it('splits any sequence of give-backs into disjoint slices that together restore + expire exactly what was asked', () => {
    const arb = fc
      .uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 3 }), drawn: fc.integer({ min: 1, max: 100 }), exp: fc.integer({ min: 0, max: 40 }) }), {
        selector: (d) => d.id,
        minLength: 1,
        maxLength: 8,
      })
      .chain((ds) => {
        const total = ds.reduce((s, d) => s + d.drawn, 0);
        return fc.tuple(fc.constant(ds), fc.array(fc.integer({ min: 1, max: total }), { maxLength: 6 }), fc.integer({ min: 0, max: 40 }));
      });
    fc.assert(
      fc.property(arb, ([ds, asks, nowDay]) => {
        const draws = ds.map((d) => draw(d.id, d.drawn, d.exp));
        const total = draws.reduce((s, d) => s + d.drawn, 0);
        const perLot = new Map<string, number>();
        let given = 0;
        for (const ask of asks) {
          if (given + ask > total) {
            expect(() => planGiveBack(draws, given, ask, day(nowDay))).toThrow(RangeError);
            continue;
          }
          const plan = planGiveBack(draws, given, ask, day(nowDay));
          expect(plan.restored + plan.expired).toBe(ask);
          expect(plan.restore.reduce((s, r) => s + r.amount, 0)).toBe(plan.restored);
          for (const r of plan.restore) {
            expect(draws.find((d) => d.id === r.lotId)!.expiresAt.getTime()).toBeGreaterThan(day(nowDay).getTime());
            perLot.set(r.lotId, (perLot.get(r.lotId) ?? 0) + r.amount);
          }
          given += ask;
        }
        // No lot ever gets back more than the hold took from it.
        for (const [lotId, back] of perLot) expect(back).toBeLessThanOrEqual(draws.find((d) => d.id === lotId)!.drawn);
      }),
    );
  });
});
