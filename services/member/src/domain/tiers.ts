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
