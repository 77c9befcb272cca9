import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { businessDay } from '@membergraph/platform';
import { applyDailyCaps, checkInPoints, nextStreak, parseDailyCaps, previousDay } from '../../src/domain/behaviour';

const LADDER = [5, 5, 5, 5, 5, 5, 20];

describe('check-in streaks', () => {
  it('continues the streak from yesterday and restarts it after a missed day', () => {
    expect(nextStreak(null, '2026-03-01')).toBe(1);
    expect(nextStreak({ day: '2026-02-28', streak: 6 }, '2026-03-01')).toBe(7);
    expect(nextStreak({ day: '2026-02-27', streak: 6 }, '2026-03-01')).toBe(1);
    expect(previousDay('2024-03-01')).toBe('2024-02-29');
    expect(previousDay('2026-01-01')).toBe('2025-12-31');
  });

  it('pays days 1-6 five points and day 7 twenty, then starts the ladder over', () => {
    expect([1, 2, 6, 7, 8, 14].map((s) => checkInPoints(s, LADDER))).toEqual([5, 5, 5, 20, 5, 20]);
  });

  it('reads the business day in the tenant time zone', () => {
    // 16:30 UTC is already the next day in Shanghai (UTC+8).
    expect(businessDay(new Date('2026-03-01T16:30:00Z'), 'Asia/Shanghai')).toBe('2026-03-02');
    expect(businessDay(new Date('2026-03-01T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-03-01');
  });
});

describe('daily caps', () => {
  it('grants what the rule cap and the total cap leave, and names the cap that cut it', () => {
    const caps = { REVIEW: 50, TOTAL: 100 };
    expect(applyDailyCaps(10, 'REVIEW', { rule: 0, total: 0 }, caps)).toEqual({ granted: 10, cappedBy: null });
    expect(applyDailyCaps(10, 'REVIEW', { rule: 45, total: 45 }, caps)).toEqual({ granted: 5, cappedBy: 'RULE' });
    expect(applyDailyCaps(30, 'ORDER', { rule: 0, total: 80 }, caps)).toEqual({ granted: 20, cappedBy: 'TOTAL' });
    expect(applyDailyCaps(10, 'REVIEW', { rule: 50, total: 50 }, caps)).toEqual({ granted: 0, cappedBy: 'RULE' });
    expect(applyDailyCaps(999, 'SHARE', { rule: 0, total: 0 }, {})).toEqual({ granted: 999, cappedBy: null });
  });

  it('never lets a day exceed either cap, whatever the sequence of earnings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('REVIEW' as const, 'SHARE' as const), fc.integer({ min: 0, max: 40 })), { maxLength: 30 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 150 }),
        (earnings, reviewCap, totalCap) => {
          const used = { REVIEW: 0, SHARE: 0, total: 0 };
          for (const [rule, requested] of earnings) {
            const d = applyDailyCaps(requested, rule, { rule: used[rule], total: used.total }, { REVIEW: reviewCap, TOTAL: totalCap });
            expect(d.granted).toBeGreaterThanOrEqual(0);
            expect(d.granted).toBeLessThanOrEqual(requested);
            expect(d.cappedBy === null).toBe(d.granted === requested);
            used[rule] += d.granted;
            used.total += d.granted;
          }
          expect(used.REVIEW).toBeLessThanOrEqual(reviewCap);
          expect(used.total).toBeLessThanOrEqual(totalCap);
        },
      ),
    );
  });

  it('parses RULE=n lists and refuses unknown rules', () => {
    expect(parseDailyCaps('REVIEW=50, SHARE=20,TOTAL=500')).toEqual({ REVIEW: 50, SHARE: 20, TOTAL: 500 });
    expect(parseDailyCaps('')).toEqual({});
    expect(() => parseDailyCaps('LIKE=3')).toThrow(/LIKE=3/);
  });
});
