import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allocateRepayment, planReversal, refundDue } from '../../src/domain/refunds';
import type { Lot } from '../../src/domain/lots';

const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000);
const lot = (id: string, remaining: number, expiresDay: number): Lot => ({ id, remaining, expiresAt: day(expiresDay), earnedAt: day(0) });

describe('refundDue', () => {
  it('takes back floor(earned * refundedTotal / orderAmount) less what earlier refunds took', () => {
    expect(refundDue({ earned: 128, refundedTotal: 5000, orderAmount: 12850, alreadyDue: 0 })).toBe(49);
    expect(refundDue({ earned: 128, refundedTotal: 12850, orderAmount: 12850, alreadyDue: 49 })).toBe(79);
  });

  it('never drifts: any split of a full refund takes back exactly the earning', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 10_000_000 }), fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 12 }), (earned, orderAmount, parts) => {
        const weights = parts.reduce((s, p) => s + p, 0);
        let total = 0;
        let due = 0;
        for (const [i, p] of parts.entries()) {
          total = i === parts.length - 1 ? orderAmount : Math.min(orderAmount, total + Math.max(1, Math.floor((orderAmount * p) / weights)));
          due += refundDue({ earned, refundedTotal: total, orderAmount, alreadyDue: due });
        }
        expect(due).toBe(earned);
      }),
    );
  });

  it('takes nothing more for a late refund whose cumulative total is behind, and caps the total at the order amount', () => {
    expect(refundDue({ earned: 100, refundedTotal: 500, orderAmount: 1000, alreadyDue: 100 })).toBe(0);
    expect(refundDue({ earned: 100, refundedTotal: 2000, orderAmount: 1000, alreadyDue: 0 })).toBe(100);
    expect(refundDue({ earned: 0, refundedTotal: 1, orderAmount: 0, alreadyDue: 0 })).toBe(0);
  });

  it('stays exact beyond 2^53 intermediate products', () => {
    expect(refundDue({ earned: 9_000_000_000, refundedTotal: 3_000_000_000, orderAmount: 9_000_000_000, alreadyDue: 0 })).toBe(3_000_000_000);
  });
});

describe('planReversal', () => {
  it("takes from the order's own lots first, then the other lots FIFO", () => {
    const lots = [lot('old', 10, 5), lot('order', 20, 300), lot('mid', 30, 100)];
    expect(planReversal(45, new Set(['order']), lots, 'DEBT')).toEqual({
      draws: [
        { lotId: 'order', amount: 20 },
        { lotId: 'old', amount: 10 },
        { lotId: 'mid', amount: 15 },
      ],
      debt: 0,
      forgiven: 0,
    });
  });

  it('turns what no lot holds into debt, or forgives it under CAP_AT_ZERO', () => {
    const lots = [lot('a', 7, 5)];
    expect(planReversal(10, new Set(), lots, 'DEBT')).toEqual({ draws: [{ lotId: 'a', amount: 7 }], debt: 3, forgiven: 0 });
    expect(planReversal(10, new Set(), lots, 'CAP_AT_ZERO')).toEqual({ draws: [{ lotId: 'a', amount: 7 }], debt: 0, forgiven: 3 });
    expect(planReversal(0, new Set(), lots, 'DEBT')).toEqual({ draws: [], debt: 0, forgiven: 0 });
  });
});

describe('allocateRepayment', () => {
  it('pays the oldest debt first and splits a draw across debts', () => {
    expect(
      allocateRepayment(
        [
          { lotId: 'L1', amount: 5 },
          { lotId: 'L2', amount: 4 },
        ],
        [
          { entryId: 'E1', owed: 3 },
          { entryId: 'E2', owed: 10 },
        ],
      ),
    ).toEqual([
      { entryId: 'E1', lotId: 'L1', amount: 3 },
      { entryId: 'E2', lotId: 'L1', amount: 2 },
      { entryId: 'E2', lotId: 'L2', amount: 4 },
    ]);
  });

  it('refuses to repay more than is owed', () => {
    expect(() => allocateRepayment([{ lotId: 'L', amount: 5 }], [{ entryId: 'E', owed: 4 }])).toThrow(RangeError);
  });
});
