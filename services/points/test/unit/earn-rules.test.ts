import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { computeEarn, defaultEarnRules, earnTotal, validateEarnRules, type EarnPromotion, type EarnRules } from '../../src/domain/earn';

const TZ = 'Asia/Shanghai';
const rules = (promotions: EarnPromotion[] = []): EarnRules => ({ ...defaultEarnRules(1), promotions });
// Friday 2026-03-27, 12:00 in Shanghai; Saturday 28th is member day.
const friday = new Date('2026-03-27T04:00:00Z');
const memberDay = new Date('2026-03-28T04:00:00Z');
const double: EarnPromotion = { code: 'MEMBER_DAY', name: 'Member day', multiplierPerMille: 2000, dayOfMonth: 28 };

describe('computeEarn', () => {
  it('keeps the foundation result: 12850 fen at MEMBER with no promotion -> 128 points', () => {
    const lines = computeEarn({ amount: 12850 }, rules(), 'MEMBER', friday, TZ);
    expect(lines).toEqual([{ kind: 'BASE', code: null, points: 128 }]);
    expect(earnTotal(lines)).toBe(128);
  });

  it('multiplies by the tier in per-mille, rounding down: GOLD x1.5, SILVER x1.2, DIAMOND x2', () => {
    expect(computeEarn({ amount: 12850 }, rules(), 'GOLD', friday, TZ)).toEqual([
      { kind: 'BASE', code: null, points: 128 },
      { kind: 'TIER', code: 'GOLD', points: 64 },
    ]);
    expect(earnTotal(computeEarn({ amount: 12850 }, rules(), 'SILVER', friday, TZ))).toBe(153); // floor(153.6)
    expect(earnTotal(computeEarn({ amount: 12850 }, rules(), 'DIAMOND', friday, TZ))).toBe(256);
  });

  it('earns at x1.0 in a tier the rules do not list', () => {
    expect(earnTotal(computeEarn({ amount: 10000 }, rules(), 'PLATINUM', friday, TZ))).toBe(100);
  });

  it('doubles points on member day (the 28th in the tenant time zone), compounding with the tier', () => {
    expect(earnTotal(computeEarn({ amount: 12850 }, rules([double]), 'MEMBER', friday, TZ))).toBe(128);
    expect(computeEarn({ amount: 12850 }, rules([double]), 'GOLD', memberDay, TZ)).toEqual([
      { kind: 'BASE', code: null, points: 128 },
      { kind: 'TIER', code: 'GOLD', points: 64 },
      { kind: 'PROMOTION', code: 'MEMBER_DAY', points: 192 },
    ]);
    // 2026-03-27T17:00Z is already the 28th in Shanghai, though still the 27th in UTC.
    expect(earnTotal(computeEarn({ amount: 10000 }, rules([double]), 'MEMBER', new Date('2026-03-27T17:00:00Z'), TZ))).toBe(200);
    expect(earnTotal(computeEarn({ amount: 10000 }, rules([double]), 'MEMBER', new Date('2026-03-27T17:00:00Z'), 'UTC'))).toBe(100);
  });

  it('applies a promotion only inside its dates and on its weekdays', () => {
    const weekend: EarnPromotion = { code: 'SPRING', name: 'Spring weekends', multiplierPerMille: 1500, startsOn: '2026-03-01', endsOn: '2026-03-31', weekdays: [6, 7] };
    expect(earnTotal(computeEarn({ amount: 10000 }, rules([weekend]), 'MEMBER', memberDay, TZ))).toBe(150); // Saturday in March
    expect(earnTotal(computeEarn({ amount: 10000 }, rules([weekend]), 'MEMBER', friday, TZ))).toBe(100); // Friday
    expect(earnTotal(computeEarn({ amount: 10000 }, rules([weekend]), 'MEMBER', new Date('2026-04-04T04:00:00Z'), TZ))).toBe(100); // Saturday in April
  });

  it('earns nothing under one yuan', () => {
    expect(earnTotal(computeEarn({ amount: 99 }, rules([double]), 'DIAMOND', memberDay, TZ))).toBe(0);
  });

  it('sums its lines to a whole, non-negative total, monotone in the amount paid', () => {
    const tier = fc.constantFrom('MEMBER', 'SILVER', 'GOLD', 'DIAMOND', 'OTHER');
    const when = fc.date({ min: new Date('2025-01-01Z'), max: new Date('2028-01-01Z'), noInvalidDate: true });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e10 }), fc.integer({ min: 0, max: 1e10 }), tier, when, (a, b, t, at) => {
        const r = rules([double]);
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const low = earnTotal(computeEarn({ amount: lo }, r, t, at, TZ));
        expect(Number.isSafeInteger(low) && low >= 0).toBe(true);
        expect(low).toBeLessThanOrEqual(earnTotal(computeEarn({ amount: hi }, r, t, at, TZ)));
      }),
    );
  });
});

describe('validateEarnRules', () => {
  it('accepts the defaults and a member day promotion', () => {
    expect(validateEarnRules(rules([double]))).toEqual([]);
  });

  it('names every bad field', () => {
    const bad: EarnRules = {
      basePointsPerYuan: -1,
      tierMultipliers: [
        { tier: 'GOLD', perMille: 1500 },
        { tier: 'GOLD', perMille: 1.5 },
      ],
      promotions: [{ code: 'x y', name: '', multiplierPerMille: 2000, startsOn: '2026-02-30', endsOn: '2026-01-01', weekdays: [0], dayOfMonth: 32 }],
    };
    expect(validateEarnRules(bad).map((v) => v.field)).toEqual([
      'basePointsPerYuan',
      'tierMultipliers[1].tier',
      'tierMultipliers[1].perMille',
      'promotions[0].code',
      'promotions[0].name',
      'promotions[0].startsOn',
      'promotions[0].weekdays',
      'promotions[0].dayOfMonth',
    ]);
    expect(validateEarnRules({ ...rules(), promotions: [{ ...double, startsOn: '2026-05-01', endsOn: '2026-04-01' }] })).toEqual([
      { field: 'promotions[0].endsOn', message: 'must not be before startsOn' },
    ]);
  });
});
