import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  basePoints,
  computeEarn,
  defaultEarnRules,
  earnTotal,
  promotionApplies,
  promotionExpiryDays,
  validateEarnRules,
  type EarnOrderLine,
  type EarnPromotion,
  type EarnRules,
} from '../../src/domain/earn';
import { localDate } from '@membergraph/platform';

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
      storeRates: [],
      categoryRates: [],
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

describe('store and category rates', () => {
  const withRates = (over: Partial<EarnRules> = {}): EarnRules => ({
    ...defaultEarnRules(1),
    storeRates: [
      { storeId: 'flagship', pointsPerYuan: 3 },
      { storeId: 'outlet', pointsPerYuan: 0 },
    ],
    categoryRates: [
      { category: 'tobacco', perMille: 0 },
      { category: 'cosmetics', perMille: 2000 },
      { category: 'coffee', perMille: 500 },
    ],
    ...over,
  });

  it('earns at the store rate instead of the base rate, and nothing at a store rated 0', () => {
    expect(basePoints({ amount: 12850, storeId: 'flagship' }, withRates())).toBe(384);
    expect(basePoints({ amount: 12850, storeId: 'outlet' }, withRates())).toBe(0);
    expect(basePoints({ amount: 12850, storeId: 'elsewhere' }, withRates())).toBe(128);
    expect(basePoints({ amount: 12850, storeId: null }, withRates())).toBe(128);
  });

  it('applies category rates to the lines\' share of the amount paid', () => {
    // 100 yuan of cosmetics (x2) and 100 yuan of groceries (x1), all paid: 200 + 100.
    const lines: EarnOrderLine[] = [
      { category: 'cosmetics', amount: 10000 },
      { category: 'groceries', amount: 10000 },
    ];
    expect(basePoints({ amount: 20000, lines }, withRates())).toBe(300);
    // A 50% order discount halves what each line stands for: 100 + 50.
    expect(basePoints({ amount: 10000, lines }, withRates())).toBe(150);
    // Tobacco earns nothing; at the flagship store the rest earns 3 per yuan: 100 yuan x 3.
    expect(basePoints({ amount: 20000, storeId: 'flagship', lines: [{ category: 'tobacco', amount: 10000 }, { category: null, amount: 10000 }] }, withRates())).toBe(300);
  });

  it('rounds down once, on whole yuan paid: floor(yuan x rate x weighted multiplier)', () => {
    // 99.99 yuan paid -> 99 whole yuan; coffee (x0.5) is 1/3 of the lines: 99 x (2/3 x 1 + 1/3 x 0.5) = 82.5 -> 82.
    const lines: EarnOrderLine[] = [
      { category: 'coffee', amount: 1000 },
      { category: 'bakery', amount: 2000 },
    ];
    expect(basePoints({ amount: 9999, lines }, withRates())).toBe(82);
  });

  it('matches the order-level result when no line has a category rate, or the lines carry no amount', () => {
    const rules = withRates();
    expect(basePoints({ amount: 12850, lines: [{ category: 'groceries', amount: 5000 }, { category: null, amount: 9000 }] }, rules)).toBe(128);
    expect(basePoints({ amount: 12850, lines: [{ category: 'cosmetics', amount: 0 }] }, rules)).toBe(128);
    expect(basePoints({ amount: 12850, lines: [] }, rules)).toBe(128);
  });

  it('stacks the tier and the promotions on top of the store and category rates', () => {
    const lines: EarnOrderLine[] = [{ category: 'cosmetics', amount: 12850 }];
    // 128 yuan x 3 (flagship) x 2 (cosmetics) = 768; GOLD x1.5 = 1152; member day x2 = 2304.
    expect(computeEarn({ amount: 12850, storeId: 'flagship', lines }, withRates({ promotions: [double] }), 'GOLD', memberDay, TZ)).toEqual([
      { kind: 'BASE', code: null, points: 768 },
      { kind: 'TIER', code: 'GOLD', points: 384 },
      { kind: 'PROMOTION', code: 'MEMBER_DAY', points: 1152 },
    ]);
  });

  const line = fc.record({
    category: fc.constantFrom<string | null>(null, 'tobacco', 'cosmetics', 'coffee', 'groceries', 'toys'),
    amount: fc.integer({ min: 0, max: 5_000_000 }),
  });
  const rulesArb = fc.record({
    base: fc.integer({ min: 0, max: 20 }),
    stores: fc.array(fc.record({ storeId: fc.constantFrom('s1', 's2', 's3'), pointsPerYuan: fc.integer({ min: 0, max: 20 }) }), { maxLength: 3 }),
    categories: fc.array(fc.record({ category: fc.constantFrom('tobacco', 'cosmetics', 'coffee', 'groceries'), perMille: fc.integer({ min: 0, max: 5000 }) }), { maxLength: 4 }),
  }).map(
    ({ base, stores, categories }): EarnRules => ({
      ...defaultEarnRules(base),
      promotions: [double],
      // Each store and category once, as validation insists.
      storeRates: stores.filter((s, i) => stores.findIndex((o) => o.storeId === s.storeId) === i),
      categoryRates: categories.filter((c, i) => categories.findIndex((o) => o.category === c.category) === i),
    }),
  );

  it('never earns more than the best rate among the lines allows on the amount paid, in whole points', () => {
    const when = fc.date({ min: new Date('2025-01-01Z'), max: new Date('2028-01-01Z'), noInvalidDate: true });
    fc.assert(
      fc.property(
        rulesArb,
        fc.integer({ min: 0, max: 1e9 }),
        fc.constantFrom<string | null>(null, 's1', 's2', 's3'),
        fc.option(fc.array(line, { maxLength: 6 })),
        fc.constantFrom('MEMBER', 'SILVER', 'GOLD', 'DIAMOND', 'OTHER'),
        when,
        (rules, paid, storeId, lines, tier, at) => {
          const order = { amount: paid, storeId, lines };
          const base = basePoints(order, rules);
          const total = earnTotal(computeEarn(order, rules, tier, at, TZ));
          expect(Number.isSafeInteger(base) && base >= 0).toBe(true);
          expect(Number.isSafeInteger(total) && total >= 0).toBe(true);
          // The best rate any line could earn at: the order's rate x the highest multiplier among the lines (1000 when unrated).
          const rate = BigInt(rules.storeRates.find((s) => s.storeId === storeId)?.pointsPerYuan ?? rules.basePointsPerYuan);
          const multipliers = (lines ?? []).map((l) => rules.categoryRates.find((c) => c.category === l.category)?.perMille ?? 1000);
          const best = BigInt(Math.max(1000, ...multipliers));
          // Exact bound, no intermediate rounding: paid fen / 100 x rate x best / 1000, then the tier and the day's promotions.
          const tierPerMille = BigInt(rules.tierMultipliers.find((t) => t.tier === tier)?.perMille ?? 1000);
          const promo = promotionApplies(double, localDate(at, TZ)) ? 2000n : 1000n;
          expect(BigInt(base) * 100n * 1000n).toBeLessThanOrEqual(BigInt(paid) * rate * best);
          expect(BigInt(total) * 100n * 1000n ** 3n).toBeLessThanOrEqual(BigInt(paid) * rate * best * tierPerMille * promo);
        },
      ),
    );
  });

  it('names bad store and category rates', () => {
    const bad = withRates({
      storeRates: [
        { storeId: 's1', pointsPerYuan: 2 },
        { storeId: 's1', pointsPerYuan: 1001 },
        { storeId: ' s2', pointsPerYuan: 1 },
      ],
      categoryRates: [
        { category: '', perMille: 1000 },
        { category: 'toys', perMille: -1 },
      ],
      promotions: [{ ...double, expiryDays: 0 }],
    });
    expect(validateEarnRules(bad).map((v) => v.field)).toEqual([
      'promotions[0].expiryDays',
      'storeRates[1].storeId',
      'storeRates[1].pointsPerYuan',
      'storeRates[2].storeId',
      'categoryRates[0].category',
      'categoryRates[1].perMille',
    ]);
  });
});

describe('promotionExpiryDays', () => {
  it('is the shortest expiryDays among the promotions of the day, null when none sets one', () => {
    const short: EarnPromotion = { ...double, expiryDays: 30 };
    const shorter: EarnPromotion = { code: 'FLASH', name: 'Flash', multiplierPerMille: 1000, dayOfMonth: 28, expiryDays: 7 };
    const otherDay: EarnPromotion = { code: 'FRIDAY', name: 'Friday', multiplierPerMille: 1500, weekdays: [5], expiryDays: 1 };
    expect(promotionExpiryDays(rules([short, shorter, otherDay]), memberDay, TZ)).toBe(7);
    expect(promotionExpiryDays(rules([short, otherDay]), memberDay, TZ)).toBe(30);
    expect(promotionExpiryDays(rules([double]), memberDay, TZ)).toBeNull();
    expect(promotionExpiryDays(rules([short]), friday, TZ)).toBeNull();
  });
});
