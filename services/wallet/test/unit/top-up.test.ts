import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_TOP_UP_RULES,
  birthdayBonusApplies,
  calendarMonth,
  calendarMonthStart,
  inBirthdayMonth,
  normalizeRules,
  parseRules,
  serializeRules,
  topUpBonus,
  topUpRulesDefects,
  type TopUpRules,
} from '../../src/domain/top-up';

const now = new Date('2026-03-01T12:00:00Z');
const regular = { firstTopUp: false };
const yuan = (y: number) => y * 100;

describe('topUpBonus with the default tiers', () => {
  it('grants the highest tier the amount reaches: 100 -> 10, 500 -> 60, 1,000 -> 150 yuan', () => {
    const bonus = (amount: number) => topUpBonus(amount, DEFAULT_TOP_UP_RULES, regular, now).bonus;
    expect(bonus(yuan(99) + 99)).toBe(0);
    expect(bonus(yuan(100))).toBe(yuan(10));
    expect(bonus(yuan(499) + 99)).toBe(yuan(10));
    expect(bonus(yuan(500))).toBe(yuan(60));
    expect(bonus(yuan(999))).toBe(yuan(60));
    expect(bonus(yuan(1_000))).toBe(yuan(150));
    expect(bonus(yuan(50_000))).toBe(yuan(150));
  });

  it('keeps the amount paid as the principal', () => {
    expect(topUpBonus(yuan(1_000), DEFAULT_TOP_UP_RULES, regular, now)).toMatchObject({ principal: yuan(1_000), bonus: yuan(150) });
  });

  it('refuses zero, negative and fractional amounts', () => {
    for (const amount of [0, -1, 1.5]) expect(() => topUpBonus(amount, DEFAULT_TOP_UP_RULES, regular, now)).toThrow(RangeError);
  });
});

describe('topUpBonus with configured rules', () => {
  const rules: TopUpRules = {
    tiers: [
      { threshold: yuan(500), bonus: yuan(60) },
      { threshold: yuan(100), bonus: yuan(10) },
    ],
    firstTopUpBonus: yuan(20),
    multipliers: [
      { startsAt: new Date('2026-03-01T00:00:00Z'), endsAt: new Date('2026-03-02T00:00:00Z'), percent: 200 },
      { startsAt: new Date('2026-02-01T00:00:00Z'), endsAt: new Date('2026-04-01T00:00:00Z'), percent: 150 },
    ],
    birthdayMonthBonus: 0,
    birthdayMonthMinAmount: 0,
  };

  it('adds the first top-up extra only on the first top-up, unmultiplied', () => {
    const march5 = new Date('2026-03-05T00:00:00Z');
    expect(topUpBonus(yuan(100), rules, { firstTopUp: true }, march5).bonus).toBe(yuan(15) + yuan(20));
    expect(topUpBonus(yuan(100), rules, { firstTopUp: false }, march5).bonus).toBe(yuan(15));
    expect(topUpBonus(yuan(50), rules, { firstTopUp: true }, march5).bonus).toBe(yuan(20));
  });

  it('applies the highest active multiplier, from its start (inclusive) to its end (exclusive)', () => {
    expect(topUpBonus(yuan(500), rules, regular, new Date('2026-03-01T00:00:00Z')).bonus).toBe(yuan(120));
    expect(topUpBonus(yuan(500), rules, regular, new Date('2026-03-02T00:00:00Z')).bonus).toBe(yuan(90));
    expect(topUpBonus(yuan(500), rules, regular, new Date('2026-04-01T00:00:00Z')).bonus).toBe(yuan(60));
    expect(topUpBonus(yuan(500), rules, regular, new Date('2026-01-31T23:59:59Z')).bonus).toBe(yuan(60));
  });

  it('rounds a multiplied bonus down to the fen', () => {
    const odd: TopUpRules = {
      ...DEFAULT_TOP_UP_RULES,
      tiers: [{ threshold: 1, bonus: 3 }],
      multipliers: [{ startsAt: new Date(0), endsAt: new Date('2100-01-01'), percent: 150 }],
    };
    expect(topUpBonus(10, odd, regular, now).bonus).toBe(4);
  });

  it('never grants a negative or fractional bonus and never shrinks when the amount grows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), fc.boolean(), (a, extra, firstTopUp) => {
        const small = topUpBonus(a, rules, { firstTopUp }, now).bonus;
        const big = topUpBonus(a + extra, rules, { firstTopUp }, now).bonus;
        expect(Number.isSafeInteger(small) && small >= 0).toBe(true);
        expect(big).toBeGreaterThanOrEqual(small);
      }),
    );
  });
});

describe('topUpRulesDefects', () => {
  it('accepts the defaults', () => {
    expect(topUpRulesDefects(DEFAULT_TOP_UP_RULES)).toEqual([]);
  });

  it('names each bad field', () => {
    const defects = topUpRulesDefects({
      tiers: [
        { threshold: 100, bonus: 10 },
        { threshold: 100, bonus: 20 },
        { threshold: 0, bonus: -1 },
      ],
      firstTopUpBonus: 1.5,
      multipliers: [{ startsAt: new Date('2026-02-01'), endsAt: new Date('2026-01-01'), percent: 50 }],
      birthdayMonthBonus: -1,
      birthdayMonthMinAmount: 0.5,
    }).map((d) => d.field);
    expect(defects).toEqual([
      'tiers[1].threshold',
      'tiers[2].threshold',
      'tiers[2].bonus',
      'firstTopUpBonus',
      'birthdayMonthBonus',
      'birthdayMonthMinAmount',
      'multipliers[0].percent',
      'multipliers[0].endsAt',
    ]);
  });
});

describe('stored rules', () => {
  it('round-trip through JSON with tiers ascending', () => {
    const rules = normalizeRules({
      tiers: [
        { threshold: 500, bonus: 60 },
        { threshold: 100, bonus: 10 },
      ],
      firstTopUpBonus: 5,
      multipliers: [{ startsAt: new Date('2026-01-01T00:00:00Z'), endsAt: new Date('2026-01-02T00:00:00Z'), percent: 200 }],
      birthdayMonthBonus: 2_000,
      birthdayMonthMinAmount: 10_000,
    });
    expect(rules.tiers.map((t) => t.threshold)).toEqual([100, 500]);
    expect(parseRules(serializeRules(rules))).toEqual(rules);
  });

  it('read rules saved before the birthday-month extra existed as having none', () => {
    const old = JSON.stringify({ tiers: [{ threshold: 100, bonus: 10 }], firstTopUpBonus: 0, multipliers: [] });
    expect(parseRules(old)).toMatchObject({ birthdayMonthBonus: 0, birthdayMonthMinAmount: 0 });
  });
});

describe('the birthday-month extra', () => {
  const rules: TopUpRules = { ...DEFAULT_TOP_UP_RULES, birthdayMonthBonus: yuan(20), birthdayMonthMinAmount: yuan(100) };

  it('is added, unmultiplied, when it is due and the top-up reaches the minimum', () => {
    const doubled: TopUpRules = { ...rules, multipliers: [{ startsAt: new Date(0), endsAt: new Date('2100-01-01'), percent: 200 }] };
    expect(topUpBonus(yuan(100), doubled, { firstTopUp: false, birthdayBonusDue: true }, now)).toMatchObject({ bonus: yuan(20) + yuan(20), birthdayBonus: yuan(20), tierBonus: yuan(20) });
    expect(topUpBonus(yuan(99), rules, { firstTopUp: false, birthdayBonusDue: true }, now)).toMatchObject({ bonus: 0, birthdayBonus: 0 });
    expect(topUpBonus(yuan(100), rules, { firstTopUp: false, birthdayBonusDue: false }, now)).toMatchObject({ bonus: yuan(10), birthdayBonus: 0 });
    expect(topUpBonus(yuan(100), rules, { firstTopUp: false }, now).birthdayBonus).toBe(0);
  });

  it('stacks with the first top-up extra', () => {
    const both: TopUpRules = { ...rules, firstTopUpBonus: yuan(5) };
    expect(topUpBonus(yuan(500), both, { firstTopUp: true, birthdayBonusDue: true }, now)).toMatchObject({ bonus: yuan(60) + yuan(5) + yuan(20), firstTopUpBonus: yuan(5), birthdayBonus: yuan(20) });
  });

  it('applies only when configured above zero and the amount reaches the minimum (so only then is the birth month asked)', () => {
    expect(birthdayBonusApplies(yuan(1_000), DEFAULT_TOP_UP_RULES)).toBe(false);
    expect(birthdayBonusApplies(yuan(100), rules)).toBe(true);
    expect(birthdayBonusApplies(yuan(100) - 1, rules)).toBe(false);
    expect(birthdayBonusApplies(1, { ...rules, birthdayMonthMinAmount: 0 })).toBe(true);
  });

  it('reads the month in the tenant time zone: the last evening of February in UTC is already March in Shanghai', () => {
    const t = new Date('2026-02-28T17:30:00Z'); // 01:30 on 1 March in Asia/Shanghai (UTC+8)
    expect(calendarMonth(t, 'UTC')).toEqual({ year: 2026, month: 2 });
    expect(calendarMonth(t, 'Asia/Shanghai')).toEqual({ year: 2026, month: 3 });
    expect(inBirthdayMonth(3, t, 'Asia/Shanghai')).toBe(true);
    expect(inBirthdayMonth(3, t, 'UTC')).toBe(false);
    expect(inBirthdayMonth(2, t, 'UTC')).toBe(true);
    expect(inBirthdayMonth(null, t, 'UTC')).toBe(false);
    // New Year's Eve in New York is already January in Shanghai.
    const nye = new Date('2026-12-31T20:00:00Z');
    expect(calendarMonth(nye, 'America/New_York')).toEqual({ year: 2026, month: 12 });
    expect(calendarMonth(nye, 'Asia/Shanghai')).toEqual({ year: 2027, month: 1 });
  });

  it('counts "once per birthday month" from the tenant midnight that starts the month', () => {
    expect(calendarMonthStart(new Date('2026-03-15T00:00:00Z'), 'Asia/Shanghai').toISOString()).toBe('2026-02-28T16:00:00.000Z');
    expect(calendarMonthStart(new Date('2026-02-28T17:30:00Z'), 'Asia/Shanghai').toISOString()).toBe('2026-02-28T16:00:00.000Z');
    expect(calendarMonthStart(new Date('2026-02-28T17:30:00Z'), 'UTC').toISOString()).toBe('2026-02-01T00:00:00.000Z');
    // Across a DST change: New York's March starts at EST midnight (UTC-5).
    expect(calendarMonthStart(new Date('2026-03-20T12:00:00Z'), 'America/New_York').toISOString()).toBe('2026-03-01T05:00:00.000Z');
  });

  it('never changes the rest of the bonus: total = tier x multiplier + first + birthday (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 100_000 }), (a, firstTopUp, due, extra) => {
        const r: TopUpRules = { ...rules, birthdayMonthBonus: extra, firstTopUpBonus: 7 };
        const without = topUpBonus(a, r, { firstTopUp }, now);
        const withIt = topUpBonus(a, r, { firstTopUp, birthdayBonusDue: due }, now);
        expect(withIt.bonus - without.bonus).toBe(due && birthdayBonusApplies(a, r) ? extra : 0);
        expect(withIt.bonus).toBe(withIt.tierBonus + withIt.firstTopUpBonus + withIt.birthdayBonus);
      }),
    );
  });
});
