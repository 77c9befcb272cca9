/** A level of the tier ladder; thresholds in fen of annual spend and in growth points. */
export interface TierLevel {
  code: string;
  name: string;
  rank: number;
  minAnnualSpend: number;
  minGrowth: number;
}

/** The default ladder from DOMAIN.md (money in fen). */
export const DEFAULT_TIER_LADDER: TierLevel[] = [
  { code: 'MEMBER', name: 'Member', rank: 0, minAnnualSpend: 0, minGrowth: 0 },
  { code: 'SILVER', name: 'Silver', rank: 1, minAnnualSpend: 500_000, minGrowth: 1_000 },
  { code: 'GOLD', name: 'Gold', rank: 2, minAnnualSpend: 2_000_000, minGrowth: 5_000 },
  { code: 'DIAMOND', name: 'Diamond', rank: 3, minAnnualSpend: 5_000_000, minGrowth: 10_000 },
];

/** The tier a new member starts in: the lowest rung. */
export function entryTier(ladder: TierLevel[]): TierLevel {
  const lowest = [...ladder].sort((a, b) => a.rank - b.rank)[0];
  if (!lowest) throw new Error('the tier ladder is empty');
  return lowest;
}

/** What a member has done in the qualifying window: net spend (fen) and growth. */
export interface Standing {
  annualSpend: number;
  growth: number;
}

/**
 * The highest tier whose spend OR growth threshold is met (DOMAIN.md: "annual spend >= 5,000 or
 * growth >= 1,000"); the entry tier when none is.
 */
export function tierFor(spend: number, growth: number, ladder: TierLevel[]): TierLevel {
  let best = entryTier(ladder);
  for (const level of ladder) {
    if (level.rank > best.rank && (spend >= level.minAnnualSpend || growth >= level.minGrowth)) best = level;
  }
  return best;
}

/** Growth earned by `fen` paid at `perYuan` growth a yuan (whole points, rounded down). */
export function growthFor(fen: number, perYuan: number): number {
  // Integer arithmetic: fen * perYuan is exact, so 12850 fen at 1/yuan is 128, never 127.99...
  return Math.floor((Math.max(0, fen) * perYuan) / 100);
}

/**
 * Growth a refund takes back: what the order's remaining amount earned before minus after, so
 * partial refunds never drift and a full refund takes back exactly what the order gave.
 */
export function growthReversal(orderAmount: number, refundedBefore: number, refund: number, perYuan: number): number {
  return growthFor(orderAmount - refundedBefore, perYuan) - growthFor(orderAmount - refundedBefore - refund, perYuan);
}

/** Start of the rolling window ending at `asOf` (exclusive): the same instant `months` months earlier, in UTC. */
export function windowStart(asOf: Date, months: number): Date {
  const d = new Date(asOf.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - months);
  // Clamp 31 March - 1 month to 28/29 February instead of overflowing into March.
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, lastDay));
  return d;
}

/** The knobs of the periodic evaluation (config). */
export interface TierPolicy {
  /** No downgrade within this many days after the member last moved up. */
  protectionDays: number;
}

/** What the evaluation knows about a member. */
export interface EvaluatedMember extends Standing {
  tierCode: string;
  /** When the member last moved up (UPGRADE or a manual raise); protection counts from here. */
  tierUpgradedAt: Date | null;
  /** When the tier last changed at all. */
  tierChangedAt: Date | null;
}

export type EvaluationOutcome =
  | { action: 'KEEP'; reason: 'QUALIFIES' | 'PROTECTED' | 'CHANGED_AFTER' | 'UNKNOWN_TIER'; tier: string }
  | { action: 'DOWNGRADE'; from: TierLevel; to: TierLevel };

const DAY_MS = 24 * 60 * 60 * 1000;

/** End of the protection period that started at `upgradedAt`. */
export function protectedUntil(upgradedAt: Date, policy: TierPolicy): Date {
  return new Date(upgradedAt.getTime() + policy.protectionDays * DAY_MS);
}

/**
 * The periodic evaluation of one member: a downgrade to the tier their standing still earns, unless
 * they qualify, are inside the protection period, or their tier changed after `asOf` (an evaluation
 * of a past day must not undo what happened since). It never upgrades: upgrades happen at once,
 * with the order that crosses the threshold.
 */
export function evaluate(member: EvaluatedMember, ladder: TierLevel[], asOf: Date, policy: TierPolicy): EvaluationOutcome {
  const current = ladder.find((l) => l.code === member.tierCode);
  // A tier no longer on the ladder is left for staff to settle (updateTierLadder refuses to drop held tiers).
  if (!current) return { action: 'KEEP', reason: 'UNKNOWN_TIER', tier: member.tierCode };
  if (member.tierChangedAt && member.tierChangedAt.getTime() > asOf.getTime()) return { action: 'KEEP', reason: 'CHANGED_AFTER', tier: current.code };
  const earned = tierFor(member.annualSpend, member.growth, ladder);
  if (earned.rank >= current.rank) return { action: 'KEEP', reason: 'QUALIFIES', tier: current.code };
  if (member.tierUpgradedAt && asOf.getTime() < protectedUntil(member.tierUpgradedAt, policy).getTime()) {
    return { action: 'KEEP', reason: 'PROTECTED', tier: current.code };
  }
  return { action: 'DOWNGRADE', from: current, to: earned };
}

export const MAX_TIERS = 20;
const TIER_CODE = /^[A-Z][A-Z0-9_]{0,19}$/;

/** A ladder as an admin submits it. */
export interface TierLevelInput {
  code: string;
  name: string;
  rank: number;
  minAnnualSpend: number;
  minGrowth: number;
}

/** Why a ladder is refused: the input path at fault and a message. */
export interface LadderProblem {
  field: string;
  message: string;
}

/**
 * Checks a ladder: 1..20 rungs given in rank order with strictly ascending ranks, unique codes,
 * thresholds non-decreasing up the ladder, the entry rung at 0/0 and every other rung above 0
 * (with "spend OR growth", a 0 threshold would put every member on that rung).
 */
export function ladderProblem(tiers: TierLevelInput[]): LadderProblem | null {
  if (tiers.length < 1 || tiers.length > MAX_TIERS) return { field: 'tiers', message: `a ladder has 1 to ${MAX_TIERS} tiers` };
  const codes = new Set<string>();
  for (const [i, t] of tiers.entries()) {
    const at = (f: string) => `tiers.${i}.${f}`;
    if (!TIER_CODE.test(t.code)) return { field: at('code'), message: 'code must be 1-20 upper-case letters, digits or _ starting with a letter' };
    if (codes.has(t.code)) return { field: at('code'), message: `code ${t.code} appears twice` };
    codes.add(t.code);
    const name = t.name.trim();
    if (name.length < 1 || name.length > 64) return { field: at('name'), message: 'name must be 1-64 characters' };
    if (!Number.isSafeInteger(t.rank) || t.rank < 0) return { field: at('rank'), message: 'rank must be a whole number >= 0' };
    for (const f of ['minAnnualSpend', 'minGrowth'] as const) {
      if (!Number.isSafeInteger(t[f]) || t[f] < 0) return { field: at(f), message: `${f} must be a whole number >= 0` };
    }
    if (i === 0) {
      if (t.minAnnualSpend !== 0 || t.minGrowth !== 0) return { field: at('minAnnualSpend'), message: 'the entry tier (the first) must have both thresholds at 0' };
      continue;
    }
    const prev = tiers[i - 1]!;
    if (t.rank <= prev.rank) return { field: at('rank'), message: 'ranks must be ascending, lowest tier first' };
    if (t.minAnnualSpend <= 0 || t.minGrowth <= 0) return { field: at(t.minAnnualSpend <= 0 ? 'minAnnualSpend' : 'minGrowth'), message: 'tiers above the entry tier need thresholds above 0' };
    if (t.minAnnualSpend < prev.minAnnualSpend) return { field: at('minAnnualSpend'), message: 'minAnnualSpend must not decrease up the ladder' };
    if (t.minGrowth < prev.minGrowth) return { field: at('minGrowth'), message: 'minGrowth must not decrease up the ladder' };
  }
  return null;
}
