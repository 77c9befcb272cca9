import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addSpend, businessDayStart, needsOtp, planCheckout, removeSpend, riskVerdict, shouldFreeze, spentOn, splitPaymentRefund, type DailySpend } from '../../src/domain/checkout';
import {
  MemberAccount,
  SystemAccount,
  journalDefect,
  memberDelta,
  paymentCapturePostings,
  paymentHoldPostings,
  paymentRefundPostings,
  paymentReleasePostings,
  systemDeltas,
} from '../../src/domain/ledger';

const M = 'm1';

describe('planCheckout', () => {
  it('converts 100 points to 1 yuan and lets the balance pay the rest', () => {
    expect(planCheckout(60_000, 5_000)).toEqual({ ok: true, plan: { amount: 60_000, pointsUsed: 5_000, pointsValue: 5_000, couponDiscount: 0, walletAmount: 55_000 } });
    expect(planCheckout(1_000, 0)).toMatchObject({ ok: true, plan: { pointsValue: 0, walletAmount: 1_000 } });
  });

  it('lets points pay at most 50% of the order', () => {
    expect(planCheckout(10_000, 5_000)).toMatchObject({ ok: true, plan: { walletAmount: 5_000 } });
    expect(planCheckout(10_000, 5_001)).toMatchObject({ ok: false, field: 'pointsToUse' });
    expect(planCheckout(1, 1)).toMatchObject({ ok: false, field: 'pointsToUse' });
  });

  it('follows configured rates and refuses points that are not whole fen', () => {
    const rules = { pointsPerYuan: 1_000, maxSharePercent: 30 };
    expect(planCheckout(10_000, 30_000, rules)).toMatchObject({ ok: true, plan: { pointsValue: 3_000, walletAmount: 7_000 } });
    expect(planCheckout(10_000, 30_010, rules)).toMatchObject({ ok: false, field: 'pointsToUse' }); // 3,001 fen > 30%
    expect(planCheckout(10_000, 15, rules)).toMatchObject({ ok: false, field: 'pointsToUse', message: expect.stringContaining('multiple of 10') });
    expect(planCheckout(10_000, 3, { pointsPerYuan: 50, maxSharePercent: 50 })).toMatchObject({ ok: true, plan: { pointsValue: 6 } });
  });

  it('refuses bad amounts and point counts naming the field', () => {
    expect(planCheckout(0, 0)).toMatchObject({ ok: false, field: 'amount' });
    expect(planCheckout(1.5, 0)).toMatchObject({ ok: false, field: 'amount' });
    expect(planCheckout(100, -1)).toMatchObject({ ok: false, field: 'pointsToUse' });
    expect(planCheckout(100, 0.5)).toMatchObject({ ok: false, field: 'pointsToUse' });
  });

  it('always splits the order exactly, with points within their share (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000_000 }), fc.integer({ min: 0, max: 1_000_000_000 }), fc.constantFrom(1, 10, 50, 100, 1_000), fc.integer({ min: 0, max: 100 }), (amount, points, perYuan, share) => {
        const r = planCheckout(amount, points, { pointsPerYuan: perYuan, maxSharePercent: share });
        if (!r.ok) return;
        expect(r.plan.pointsValue + r.plan.walletAmount + r.plan.couponDiscount).toBe(amount);
        expect(r.plan.pointsValue * perYuan).toBe(points * 100);
        expect(r.plan.pointsValue * 100).toBeLessThanOrEqual(amount * share);
        expect(r.plan.walletAmount).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe('step-up and risk', () => {
  it('asks for the OTP strictly above the threshold', () => {
    expect(needsOtp(50_000, 50_000)).toBe(false);
    expect(needsOtp(50_001, 50_000)).toBe(true);
  });

  it('checks the single-payment cap, then the daily cap including today’s spending, then velocity', () => {
    const rules = { singlePaymentCap: 10_000, dailyCap: 25_000, velocityMaxPayments: 3, velocityWindowMinutes: 10 };
    const none = { spentToday: 0, recentPayments: 0 };
    expect(riskVerdict(10_000, none, rules)).toBeNull();
    expect(riskVerdict(10_001, none, rules)).toEqual({ rule: 'SINGLE_PAYMENT_CAP', limit: 10_000, attempted: 10_001 });
    expect(riskVerdict(5_000, { spentToday: 20_000, recentPayments: 0 }, rules)).toBeNull();
    expect(riskVerdict(5_001, { spentToday: 20_000, recentPayments: 0 }, rules)).toEqual({ rule: 'DAILY_CAP', limit: 25_000, attempted: 25_001 });
    // More than 3 payments in the window: the 4th is refused.
    expect(riskVerdict(1, { spentToday: 0, recentPayments: 2 }, rules)).toBeNull();
    expect(riskVerdict(1, { spentToday: 0, recentPayments: 3 }, rules)).toEqual({ rule: 'VELOCITY', limit: 3, attempted: 4 });
    expect(riskVerdict(1, { spentToday: 0, recentPayments: 1_000 }, { ...rules, velocityMaxPayments: 0 })).toBeNull();
  });

  it('freezes on the hit that reaches the limit, never when auto-freeze is off', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }), (hits, after) => {
        expect(shouldFreeze(hits, { freezeAfterHits: after, freezeWindowMinutes: 60 })).toBe(after > 0 && hits >= after);
      }),
    );
  });

  it('starts the business day at midnight in the tenant time zone', () => {
    // 2025-03-10 01:30 in Shanghai is 2025-03-09 17:30 UTC; its day started 2025-03-09 16:00 UTC.
    expect(businessDayStart(new Date('2025-03-09T17:30:00.123Z'), 'Asia/Shanghai').toISOString()).toBe('2025-03-09T16:00:00.000Z');
    expect(businessDayStart(new Date('2025-03-09T15:59:59Z'), 'Asia/Shanghai').toISOString()).toBe('2025-03-08T16:00:00.000Z');
    expect(businessDayStart(new Date('2025-03-09T23:00:00Z'), 'UTC').toISOString()).toBe('2025-03-09T00:00:00.000Z');
  });
});

describe('the daily counter', () => {
  it('counts the day it is for, starts a new day from zero, and knows nothing when it never counted', () => {
    expect(spentOn({ day: '2026-11-22', spent: 500 }, '2026-11-22')).toBe(500);
    expect(spentOn({ day: '2026-11-21', spent: 500 }, '2026-11-22')).toBe(0);
    expect(spentOn({ day: null, spent: 0 }, '2026-11-22')).toBeNull();
    expect(addSpend('2026-11-22', 0, 300)).toEqual({ day: '2026-11-22', spent: 300 });
    expect(removeSpend({ day: '2026-11-22', spent: 800 }, '2026-11-22', 300)).toEqual({ day: '2026-11-22', spent: 500 });
    // A release of a hold from an earlier day, or onto a counter that never counted, moves nothing.
    expect(removeSpend({ day: '2026-11-23', spent: 800 }, '2026-11-22', 300)).toEqual({ day: '2026-11-23', spent: 800 });
    expect(removeSpend({ day: null, spent: 0 }, '2026-11-22', 300)).toEqual({ day: null, spent: 0 });
  });

  it('always equals what the payments still taken on its day add up to, whatever the takes, releases and day changes', () => {
    const days = ['2026-11-21', '2026-11-22', '2026-11-23'];
    // A take happens on the current day (days only move forward); a release names a take made earlier.
    const step = fc.oneof(
      fc.record({ kind: fc.constant('take' as const), amount: fc.integer({ min: 1, max: 100_000 }), nextDay: fc.boolean() }),
      fc.record({ kind: fc.constant('release' as const), which: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        let counter: DailySpend = { day: null, spent: 0 };
        let day = 0;
        const taken: Array<{ day: string; amount: number; released: boolean }> = [];
        for (const s of steps) {
          if (s.kind === 'take') {
            if (s.nextDay && day < days.length - 1) day++;
            const today = days[day]!;
            // Never counted: rebuilt from the payments of the day, as riskHistory does.
            const before = spentOn(counter, today) ?? taken.filter((t) => t.day === today && !t.released).reduce((a, t) => a + t.amount, 0);
            counter = addSpend(today, before, s.amount);
            taken.push({ day: today, amount: s.amount, released: false });
          } else {
            const open = taken.filter((t) => !t.released);
            const t = open[s.which % Math.max(1, open.length)];
            if (!t) continue;
            t.released = true;
            counter = removeSpend(counter, t.day, t.amount);
          }
          if (counter.day !== null) {
            expect(counter.spent).toBe(taken.filter((t) => t.day === counter.day && !t.released).reduce((a, t) => a + t.amount, 0));
          }
        }
      }),
    );
  });
});

describe('splitPaymentRefund', () => {
  it('gives back in the proportion taken, a full refund exactly what was taken', () => {
    const paid = { principal: 7_000, bonus: 3_000 };
    const first = splitPaymentRefund(paid, { principal: 0, bonus: 0 }, 1_001)!;
    expect(first).toEqual({ principal: 701, bonus: 300 });
    const rest = splitPaymentRefund(paid, first, 8_999)!;
    expect({ principal: first.principal + rest.principal, bonus: first.bonus + rest.bonus }).toEqual(paid);
    expect(splitPaymentRefund(paid, paid, 1)).toBeNull();
    expect(splitPaymentRefund(paid, first, 9_000)).toBeNull();
    expect(splitPaymentRefund(paid, { principal: 0, bonus: 0 }, 0)).toBeNull();
  });

  it('never returns more to a sub-balance than it gave, whatever the sequence of partial refunds (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000 }), fc.integer({ min: 0, max: 1_000_000_000 }), fc.array(fc.integer({ min: 1, max: 1_000_000_000 }), { maxLength: 12 }), (p, b, asks) => {
        fc.pre(p + b > 0);
        const paid = { principal: p, bonus: b };
        const done = { principal: 0, bonus: 0 };
        for (const ask of asks) {
          const left = p + b - done.principal - done.bonus;
          const s = splitPaymentRefund(paid, done, ask);
          if (ask > left) {
            expect(s).toBeNull();
            continue;
          }
          expect(s!.principal).toBeGreaterThanOrEqual(0);
          expect(s!.bonus).toBeGreaterThanOrEqual(0);
          expect(s!.principal + s!.bonus).toBe(ask);
          done.principal += s!.principal;
          done.bonus += s!.bonus;
          expect(done.principal).toBeLessThanOrEqual(p);
          expect(done.bonus).toBeLessThanOrEqual(b);
        }
        const last = splitPaymentRefund(paid, done, p + b - done.principal - done.bonus);
        if (last) expect({ principal: done.principal + last.principal, bonus: done.bonus + last.bonus }).toEqual(paid);
      }),
    );
  });
});

describe('checkout journals', () => {
  const split = { principal: 4_000, bonus: 1_000 };

  it('hold moves the member’s money to PAYMENT_HOLD, balanced', () => {
    const hold = paymentHoldPostings(M, split);
    expect(journalDefect(hold)).toBeNull();
    expect(memberDelta(hold, M)).toEqual({ principal: -4_000, bonus: -1_000 });
    expect(systemDeltas(hold)).toEqual(new Map([[SystemAccount.PAYMENT_HOLD, 5_000], [SystemAccount.SV_LIABILITY, -5_000]]));
  });

  it('capture spends the hold without touching the member; release and refund give it back', () => {
    const capture = paymentCapturePostings(5_000);
    expect(journalDefect(capture)).toBeNull();
    expect(memberDelta(capture, M)).toEqual({ principal: 0, bonus: 0 });
    expect(systemDeltas(capture)).toEqual(new Map([[SystemAccount.PAYMENT_HOLD, -5_000], [SystemAccount.SPEND_CLEARING, 5_000]]));
    for (const back of [paymentReleasePostings(M, split), paymentRefundPostings(M, split)]) {
      expect(journalDefect(back)).toBeNull();
      expect(memberDelta(back, M)).toEqual(split);
    }
    expect(paymentRefundPostings(M, { principal: 0, bonus: 10 }).map((p) => p.account)).toEqual([SystemAccount.SPEND_CLEARING, SystemAccount.SV_LIABILITY, MemberAccount.BONUS]);
  });
});
