import { addDays } from '@membergraph/platform';

/** Earning rules that daily caps apply to. */
export const CappedRule = {
  ORDER: 'ORDER',
  CHECK_IN: 'CHECK_IN',
  REVIEW: 'REVIEW',
  SHARE: 'SHARE',
  PROFILE_COMPLETED: 'PROFILE_COMPLETED',
} as const;
export type CappedRule = (typeof CappedRule)[keyof typeof CappedRule];

/** Per-member daily caps: per rule, and `TOTAL` over every capped rule; a missing cap is no cap. */
export type DailyCaps = Partial<Record<CappedRule | 'TOTAL', number>>;

/** The calendar day before `day` (`YYYY-MM-DD`). */
export function previousDay(day: string): string {
  return addDays(day, -1);
}

/** The streak of a check-in on `today`: one more than yesterday's, or 1 after a missed day (or the first ever). */
export function nextStreak(last: { day: string; streak: number } | null, today: string): number {
  return last && last.day === previousDay(today) ? last.streak + 1 : 1;
}

/**
 * Points for streak day `streak` on `ladder` (points for day 1, 2, ...): past the ladder's end it
 * starts over (day 8 of a 7-day ladder pays like day 1), so a long streak keeps earning its cycle.
 */
export function checkInPoints(streak: number, ladder: readonly number[]): number {
  if (!Number.isSafeInteger(streak) || streak < 1) throw new RangeError(`streak starts at 1, got ${streak}`);
  if (!ladder.length) return 0;
  return ladder[(streak - 1) % ladder.length]!;
}

/** What the caps let through of a requested earning, and which cap cut it. */
export interface CapDecision {
  granted: number;
  cappedBy: 'RULE' | 'TOTAL' | null;
}

/**
 * Applies the member's daily caps to `requested` points of `rule`, given what was already granted
 * today under that rule and in total: never more than either cap leaves; what goes over is not granted.
 */
export function applyDailyCaps(requested: number, rule: CappedRule, used: { rule: number; total: number }, caps: DailyCaps): CapDecision {
  if (!Number.isSafeInteger(requested) || requested < 0) throw new RangeError(`requested must be >= 0, got ${requested}`);
  const ruleLeft = caps[rule] === undefined ? Infinity : Math.max(0, caps[rule]! - used.rule);
  const totalLeft = caps.TOTAL === undefined ? Infinity : Math.max(0, caps.TOTAL - used.total);
  const granted = Math.min(requested, ruleLeft, totalLeft);
  if (granted === requested) return { granted, cappedBy: null };
  return { granted, cappedBy: ruleLeft <= totalLeft ? 'RULE' : 'TOTAL' };
}

/** Parses `RULE=n,...` (rules of {@link CappedRule} or TOTAL, n >= 0); throws naming the bad part. */
export function parseDailyCaps(text: string): DailyCaps {
  const caps: DailyCaps = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Z_]+)=(\d{1,9})$/.exec(part);
    const rule = m?.[1];
    if (!m || !rule || !(rule === 'TOTAL' || rule in CappedRule)) throw new Error(`bad daily cap "${part}": expected RULE=n with RULE one of ${[...Object.keys(CappedRule), 'TOTAL'].join(', ')}`);
    caps[rule as keyof DailyCaps] = Number(m[2]);
  }
  return caps;
}

/** The note on a capped EARN entry: what was asked and what was granted. */
export function cappedNote(requested: number, granted: number, cappedBy: string): string {
  return `CAPPED requested=${requested} granted=${granted} by=${cappedBy}`;
}
