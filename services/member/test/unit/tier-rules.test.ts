import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_TIER_LADDER as LADDER,
  evaluate,
  growthFor,
  growthReversal,
  ladderProblem,
  protectedUntil,
  tierFor,
  windowStart,
  type EvaluatedMember,
} from '../../src/domain/tiers';
import { linesProblem, sameOrder } from '../../src/domain/order';
import { normalizeName } from '../../src/domain/search';

const DAY = 86_400_000;
const policy = { protectionDays: 90 };
const member = (over: Partial<EvaluatedMember> = {}): EvaluatedMember => ({
  tierCode: 'GOLD',
  annualSpend: 0,
  growth: 0,
  tierUpgradedAt: null,
  tierChangedAt: null,
  ...over,
});

describe('tierFor', () => {
  it('gives the highest tier whose spend OR growth threshold is met', () => {
    expect(tierFor(0, 0, LADDER).code).toBe('MEMBER');
    expect(tierFor(499_999, 999, LADDER).code).toBe('MEMBER');
    expect(tierFor(500_000, 0, LADDER).code).toBe('SILVER');
    expect(tierFor(0, 1_000, LADDER).code).toBe('SILVER');
    expect(tierFor(2_000_000, 0, LADDER).code).toBe('GOLD');
    expect(tierFor(100, 10_000, LADDER).code).toBe('DIAMOND');
  });

  it('never lowers the tier when spend or growth go up (property)', () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.nat(20_000), fc.nat(1_000_000), fc.nat(1_000), (spend, growth, moreSpend, moreGrowth) => {
        expect(tierFor(spend + moreSpend, growth + moreGrowth, LADDER).rank).toBeGreaterThanOrEqual(tierFor(spend, growth, LADDER).rank);
      }),
    );
  });

  it('gives a tier whose threshold is met, with no higher tier met (property)', () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.nat(20_000), (spend, growth) => {
        const t = tierFor(spend, growth, LADDER);
        expect(t.rank === 0 || spend >= t.minAnnualSpend || growth >= t.minGrowth).toBe(true);
        for (const higher of LADDER.filter((l) => l.rank > t.rank)) {
          expect(spend < higher.minAnnualSpend && growth < higher.minGrowth).toBe(true);
        }
      }),
    );
  });
});

describe('growth', () => {
  it('earns whole growth points per yuan paid, rounded down', () => {
    expect(growthFor(12_850, 1)).toBe(128);
    expect(growthFor(99, 1)).toBe(0);
    expect(growthFor(500_000, 2)).toBe(10_000);
  });

  it('takes back exactly what the order earned over any sequence of partial refunds (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.array(fc.integer({ min: 1, max: 1_000_000 }), { maxLength: 8 }), fc.integer({ min: 1, max: 5 }), (amount, parts, rate) => {
        let refunded = 0;
        let reversed = 0;
        for (const p of parts) {
          const r = Math.min(p, amount - refunded);
          if (r <= 0) break;
          const back = growthReversal(amount, refunded, r, rate);
          expect(back).toBeGreaterThanOrEqual(0);
          reversed += back;
          refunded += r;
        }
        expect(growthFor(amount, rate) - reversed).toBe(growthFor(amount - refunded, rate));
        // The rest refunded too: nothing is left.
        expect(reversed + growthReversal(amount, refunded, amount - refunded, rate)).toBe(growthFor(amount, rate));
      }),
    );
  });
});

describe('windowStart', () => {
  it('goes back whole calendar months in UTC, clamping to the month end', () => {
    expect(windowStart(new Date('2025-06-15T10:00:00Z'), 12).toISOString()).toBe('2024-06-15T10:00:00.000Z');
    expect(windowStart(new Date('2025-03-31T00:00:00Z'), 1).toISOString()).toBe('2025-02-28T00:00:00.000Z');
    expect(windowStart(new Date('2024-02-29T00:00:00Z'), 12).toISOString()).toBe('2023-02-28T00:00:00.000Z');
  });
});

describe('evaluate', () => {
  const asOf = new Date('2025-07-01T00:00:00Z');

  it('keeps members who still qualify', () => {
    expect(evaluate(member({ annualSpend: 2_000_000 }), LADDER, asOf, policy)).toMatchObject({ action: 'KEEP', reason: 'QUALIFIES' });
    expect(evaluate(member({ tierCode: 'SILVER', growth: 5_000 }), LADDER, asOf, policy)).toMatchObject({ action: 'KEEP', reason: 'QUALIFIES' });
  });

  it('downgrades to the tier the standing still earns, possibly several rungs', () => {
    const out = evaluate(member({ tierCode: 'DIAMOND', annualSpend: 600_000 }), LADDER, asOf, policy);
    expect(out).toMatchObject({ action: 'DOWNGRADE', from: { code: 'DIAMOND' }, to: { code: 'SILVER' } });
    expect(evaluate(member(), LADDER, asOf, policy)).toMatchObject({ action: 'DOWNGRADE', to: { code: 'MEMBER' } });
  });

  it('never downgrades inside the protection period after a move up', () => {
    const upgraded = new Date(asOf.getTime() - 89 * DAY);
    expect(evaluate(member({ tierUpgradedAt: upgraded, tierChangedAt: upgraded }), LADDER, asOf, policy)).toMatchObject({ action: 'KEEP', reason: 'PROTECTED' });
    const longAgo = new Date(asOf.getTime() - 90 * DAY);
    expect(evaluate(member({ tierUpgradedAt: longAgo, tierChangedAt: longAgo }), LADDER, asOf, policy).action).toBe('DOWNGRADE');
    expect(protectedUntil(longAgo, policy)).toEqual(asOf);
  });

  it('leaves a tier set after the evaluated instant alone, and tiers no longer on the ladder', () => {
    const later = new Date(asOf.getTime() + DAY);
    expect(evaluate(member({ tierChangedAt: later }), LADDER, asOf, policy)).toMatchObject({ action: 'KEEP', reason: 'CHANGED_AFTER' });
    expect(evaluate(member({ tierCode: 'PLATINUM' }), LADDER, asOf, policy)).toMatchObject({ action: 'KEEP', reason: 'UNKNOWN_TIER' });
  });

  it('never upgrades and never downgrades a member who qualifies (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...LADDER.map((l) => l.code)), fc.nat(10_000_000), fc.nat(20_000), fc.option(fc.integer({ min: 0, max: 400 })), (tierCode, annualSpend, growth, daysSinceUp) => {
        const up = daysSinceUp === null ? null : new Date(asOf.getTime() - daysSinceUp * DAY);
        const m = member({ tierCode, annualSpend, growth, tierUpgradedAt: up, tierChangedAt: up });
        const out = evaluate(m, LADDER, asOf, policy);
        const current = LADDER.find((l) => l.code === tierCode)!;
        if (out.action === 'DOWNGRADE') {
          expect(out.to.rank).toBeLessThan(current.rank);
          expect(out.to.code).toBe(tierFor(annualSpend, growth, LADDER).code);
          expect(daysSinceUp === null || daysSinceUp >= 90).toBe(true);
        } else if (tierFor(annualSpend, growth, LADDER).rank < current.rank) {
          expect(out.reason).toBe('PROTECTED');
        }
      }),
    );
  });
});

describe('ladderProblem', () => {
  it('accepts the default ladder', () => {
    expect(ladderProblem(LADDER)).toBeNull();
  });

  it('names the field at fault', () => {
    const with_ = (i: number, over: object) => LADDER.map((t, j) => (j === i ? { ...t, ...over } : t));
    expect(ladderProblem([])?.field).toBe('tiers');
    expect(ladderProblem(with_(0, { minGrowth: 1 }))?.field).toBe('tiers.0.minAnnualSpend');
    expect(ladderProblem(with_(2, { rank: 1 }))?.field).toBe('tiers.2.rank');
    expect(ladderProblem(with_(2, { minAnnualSpend: 100 }))?.field).toBe('tiers.2.minAnnualSpend');
    expect(ladderProblem(with_(3, { minGrowth: 4_999 }))?.field).toBe('tiers.3.minGrowth');
    expect(ladderProblem(with_(1, { minGrowth: 0 }))?.field).toBe('tiers.1.minGrowth');
    expect(ladderProblem(with_(3, { code: 'GOLD' }))?.field).toBe('tiers.3.code');
    expect(ladderProblem(with_(1, { code: 'silver' }))?.field).toBe('tiers.1.code');
    expect(ladderProblem(with_(1, { name: ' ' }))?.field).toBe('tiers.1.name');
    // Equal thresholds on neighbouring rungs are allowed (non-decreasing).
    expect(ladderProblem(with_(2, { minAnnualSpend: 500_000 }))).toBeNull();
  });
});

describe('order lines', () => {
  const line = { sku: 'SKU-1', category: 'coffee', quantity: 2, amount: 3_000 };

  it('may add up to more than the paid amount but no line is negative', () => {
    expect(linesProblem([line, { ...line, amount: 0 }])).toBeNull();
    expect(linesProblem([line, { ...line, amount: -1 }])).toEqual(['lines.1.amount', expect.any(String)]);
    expect(linesProblem([{ ...line, quantity: 0 }])?.[0]).toBe('lines.0.quantity');
    expect(linesProblem([{ ...line, sku: '' }])?.[0]).toBe('lines.0.sku');
  });

  it('are part of what makes a retried order the same order', () => {
    const facts = { memberId: 'm', amount: 100, storeId: null, channel: 'STORE', lines: [line] };
    expect(sameOrder(facts, { ...facts, lines: [{ ...line }] })).toBe(true);
    expect(sameOrder(facts, { ...facts, lines: [{ ...line, quantity: 3 }] })).toBe(false);
    expect(sameOrder(facts, { ...facts, lines: null })).toBe(false);
    expect(sameOrder({ ...facts, lines: null }, { ...facts, lines: null })).toBe(true);
  });
});

describe('normalizeName', () => {
  it('ignores case, spacing and full-width forms', () => {
    expect(normalizeName('  li   LEI ')).toBe('li lei');
    expect(normalizeName('Ｌｉ Ｌｅｉ')).toBe('li lei');
    expect(normalizeName('王 伟')).toBe('王 伟');
  });
});
