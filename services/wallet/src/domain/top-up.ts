/** Top-up bonus rules: data in, data out. Amounts in fen. */
import { localDate, startOfLocalDay } from '@membergraph/platform';

export interface TopUpTier {
  /** The amount from which this tier applies. */
  threshold: number;
  /** The bonus this tier grants. */
  bonus: number;
}

/** A campaign multiplying tier bonuses between two instants (`percent` 200 = double bonus). */
export interface BonusMultiplier {
  startsAt: Date;
  endsAt: Date;
  percent: number;
}

export interface TopUpRules {
  /** Ascending by threshold; the highest tier the amount reaches applies (no tier, no bonus). */
  tiers: TopUpTier[];
  /** Extra bonus on a member's first top-up ever (a refunded one still counts as had). */
  firstTopUpBonus: number;
  /** The highest multiplier active at the top-up's time applies to the tier bonus. */
  multipliers: BonusMultiplier[];
  /**
   * Extra bonus on the member's first top-up of at least `birthdayMonthMinAmount` within their
   * birthday month (tenant calendar), once per birthday month; 0 = no birthday bonus.
   */
  birthdayMonthBonus: number;
  /** The smallest top-up that earns the birthday-month extra (0: any). */
  birthdayMonthMinAmount: number;
}

/** The brief's defaults: pay 100 get 10, 500 get 60, 1,000 get 150 (yuan). */
export const DEFAULT_TOP_UP_RULES: TopUpRules = {
  tiers: [
    { threshold: 10_000, bonus: 1_000 },
    { threshold: 50_000, bonus: 6_000 },
    { threshold: 100_000, bonus: 15_000 },
  ],
  firstTopUpBonus: 0,
  multipliers: [],
  birthdayMonthBonus: 0,
  birthdayMonthMinAmount: 0,
};

/** A single top-up may move at most this much (10 million yuan): a sanity bound, not a risk rule. */
export const MAX_TOP_UP = 1_000_000_000;
const MAX_TIERS = 50;
const MAX_MULTIPLIERS = 50;
const MAX_PERCENT = 1_000;

/** What the member is to the rules. */
export interface TopUpMember {
  /** True when the member has never topped up before. */
  firstTopUp: boolean;
  /**
   * True when the top-up falls in the member's birthday month (see {@link inBirthdayMonth}) and no
   * earlier top-up in this birthday month earned the birthday extra (a refunded one still counts).
   * Absent: false.
   */
  birthdayBonusDue?: boolean;
}

export interface TopUpBonus {
  principal: number;
  /** Total bonus: tier bonus (times the multiplier) plus the first top-up and birthday-month extras. */
  bonus: number;
  tierBonus: number;
  multiplierPercent: number;
  firstTopUpBonus: number;
  birthdayBonus: number;
}

/** Whether the rules grant a birthday-month extra on a top-up of `amount` at all (and so need the member's birth month). */
export function birthdayBonusApplies(amount: number, rules: TopUpRules): boolean {
  return rules.birthdayMonthBonus > 0 && amount >= rules.birthdayMonthMinAmount;
}

/** The calendar month (1-12) and year `now` falls in, in `timeZone`. */
export function calendarMonth(now: Date, timeZone: string): { year: number; month: number } {
  const { year, month } = localDate(now, timeZone);
  return { year, month };
}

/** The instant the calendar month containing `now` started in `timeZone` (its first business day's midnight). */
export function calendarMonthStart(now: Date, timeZone: string): Date {
  const { year, month } = calendarMonth(now, timeZone);
  return startOfLocalDay(year, month, 1, timeZone);
}

/** Whether `now` falls in birth month `birthMonth` (1-12) of the tenant's calendar; never for an unknown month. */
export function inBirthdayMonth(birthMonth: number | null, now: Date, timeZone: string): boolean {
  return birthMonth !== null && calendarMonth(now, timeZone).month === birthMonth;
}

/** The bonus a top-up of `amount` earns under `rules` for `member` at `now`. Rounds down to the fen. */
export function topUpBonus(amount: number, rules: TopUpRules, member: TopUpMember, now: Date): TopUpBonus {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError(`amount must be a positive whole number of fen, got ${amount}`);
  let base = 0;
  let reached = -1;
  for (const tier of rules.tiers) {
    if (amount >= tier.threshold && tier.threshold > reached) {
      reached = tier.threshold;
      base = tier.bonus;
    }
  }
  const t = now.getTime();
  const multiplierPercent = rules.multipliers
    .filter((m) => m.startsAt.getTime() <= t && t < m.endsAt.getTime())
    .reduce((best, m) => Math.max(best, m.percent), 100);
  // Integer arithmetic only: base <= MAX_TOP_UP-ish and percent <= 1000 stay far below 2^53.
  const tierBonus = Math.floor((base * multiplierPercent) / 100);
  const first = member.firstTopUp ? rules.firstTopUpBonus : 0;
  const birthday = member.birthdayBonusDue && birthdayBonusApplies(amount, rules) ? rules.birthdayMonthBonus : 0;
  return { principal: amount, bonus: tierBonus + first + birthday, tierBonus, multiplierPercent, firstTopUpBonus: first, birthdayBonus: birthday };
}

/** A rule defect, naming the field as the input spells it. */
export interface RuleDefect {
  field: string;
  message: string;
}

const isFen = (v: unknown, min: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= MAX_TOP_UP;

/** Every defect of `rules`, empty when they may be saved. */
export function topUpRulesDefects(rules: TopUpRules): RuleDefect[] {
  const out: RuleDefect[] = [];
  if (rules.tiers.length > MAX_TIERS) out.push({ field: 'tiers', message: `at most ${MAX_TIERS} tiers` });
  const seen = new Set<number>();
  rules.tiers.forEach((tier, i) => {
    if (!isFen(tier.threshold, 1)) out.push({ field: `tiers[${i}].threshold`, message: `must be a whole number of fen between 1 and ${MAX_TOP_UP}` });
    else if (seen.has(tier.threshold)) out.push({ field: `tiers[${i}].threshold`, message: 'thresholds must be distinct' });
    seen.add(tier.threshold);
    if (!isFen(tier.bonus, 0)) out.push({ field: `tiers[${i}].bonus`, message: `must be a whole number of fen between 0 and ${MAX_TOP_UP}` });
  });
  if (!isFen(rules.firstTopUpBonus, 0)) out.push({ field: 'firstTopUpBonus', message: `must be a whole number of fen between 0 and ${MAX_TOP_UP}` });
  if (!isFen(rules.birthdayMonthBonus, 0)) out.push({ field: 'birthdayMonthBonus', message: `must be a whole number of fen between 0 and ${MAX_TOP_UP}` });
  if (!isFen(rules.birthdayMonthMinAmount, 0)) out.push({ field: 'birthdayMonthMinAmount', message: `must be a whole number of fen between 0 and ${MAX_TOP_UP}` });
  if (rules.multipliers.length > MAX_MULTIPLIERS) out.push({ field: 'multipliers', message: `at most ${MAX_MULTIPLIERS} multipliers` });
  rules.multipliers.forEach((m, i) => {
    if (!Number.isInteger(m.percent) || m.percent < 100 || m.percent > MAX_PERCENT) {
      out.push({ field: `multipliers[${i}].percent`, message: `must be a whole percentage between 100 and ${MAX_PERCENT}` });
    }
    if (!(m.startsAt.getTime() < m.endsAt.getTime())) out.push({ field: `multipliers[${i}].endsAt`, message: 'must be after startsAt' });
  });
  return out;
}

/** Rules as stored (tiers ascending), from any order the input came in. */
export function normalizeRules(rules: TopUpRules): TopUpRules {
  return {
    tiers: [...rules.tiers].sort((a, b) => a.threshold - b.threshold).map((t) => ({ threshold: t.threshold, bonus: t.bonus })),
    firstTopUpBonus: rules.firstTopUpBonus,
    multipliers: [...rules.multipliers]
      .sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime())
      .map((m) => ({ startsAt: new Date(m.startsAt), endsAt: new Date(m.endsAt), percent: m.percent })),
    birthdayMonthBonus: rules.birthdayMonthBonus,
    birthdayMonthMinAmount: rules.birthdayMonthMinAmount,
  };
}

/** JSON text of rules for storage. */
export function serializeRules(rules: TopUpRules): string {
  return JSON.stringify({
    tiers: rules.tiers,
    firstTopUpBonus: rules.firstTopUpBonus,
    multipliers: rules.multipliers.map((m) => ({ startsAt: m.startsAt.toISOString(), endsAt: m.endsAt.toISOString(), percent: m.percent })),
    birthdayMonthBonus: rules.birthdayMonthBonus,
    birthdayMonthMinAmount: rules.birthdayMonthMinAmount,
  });
}

/** Rules from their stored JSON text. */
export function parseRules(text: string): TopUpRules {
  const raw = JSON.parse(text) as {
    tiers: TopUpTier[];
    firstTopUpBonus: number;
    multipliers: Array<{ startsAt: string; endsAt: string; percent: number }>;
    birthdayMonthBonus?: number;
    birthdayMonthMinAmount?: number;
  };
  return {
    tiers: raw.tiers.map((t) => ({ threshold: t.threshold, bonus: t.bonus })),
    firstTopUpBonus: raw.firstTopUpBonus,
    multipliers: raw.multipliers.map((m) => ({ startsAt: new Date(m.startsAt), endsAt: new Date(m.endsAt), percent: m.percent })),
    // Rules saved before the birthday-month extra existed have none.
    birthdayMonthBonus: raw.birthdayMonthBonus ?? 0,
    birthdayMonthMinAmount: raw.birthdayMonthMinAmount ?? 0,
  };
}
