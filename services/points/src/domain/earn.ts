import { dayOf, isIsoDate, localDate, type LocalDate } from '@membergraph/platform';

/** The base rate that turns a paid order into points (see computeEarn for multipliers and promotions). */
export interface OrderEarnRules {
  /** Points per whole yuan paid. */
  pointsPerYuan: number;
}

const FEN_PER_YUAN = 100;

/**
 * Points an order earns: one per whole yuan paid (the fen are rounded down to yuan first), times
 * the rate. 12850 fen = 128.50 yuan -> 128 points at the default rate.
 */
export function pointsForOrder(paidFen: number, rules: OrderEarnRules): number {
  if (!Number.isSafeInteger(paidFen) || paidFen < 0) throw new RangeError(`paid amount must be a whole, non-negative number of fen, got ${paidFen}`);
  if (!Number.isSafeInteger(rules.pointsPerYuan) || rules.pointsPerYuan < 0) {
    throw new RangeError(`pointsPerYuan must be a whole, non-negative number, got ${rules.pointsPerYuan}`);
  }
  // Integer arithmetic: Math.floor(paidFen / 100) can round up near 2^53, where k - 0.01 is not representable.
  const yuan = (paidFen - (paidFen % FEN_PER_YUAN)) / FEN_PER_YUAN;
  const points = yuan * rules.pointsPerYuan;
  if (!Number.isSafeInteger(points)) throw new RangeError(`points for ${paidFen} fen overflow`);
  return points;
}

/** Tier multipliers and promotion multipliers are integers in per-mille: 1000 = x1.0, 1500 = x1.5. */
export const PER_MILLE = 1000;

/** The default tier ladder's multipliers (MEMBER 1.0, SILVER 1.2, GOLD 1.5, DIAMOND 2.0). */
export const DEFAULT_TIER_MULTIPLIERS: TierMultiplier[] = [
  { tier: 'MEMBER', perMille: 1000 },
  { tier: 'SILVER', perMille: 1200 },
  { tier: 'GOLD', perMille: 1500 },
  { tier: 'DIAMOND', perMille: 2000 },
];

export interface TierMultiplier {
  tier: string;
  perMille: number;
}

/**
 * A promotion multiplies the points of orders completed on the days it matches, in the tenant
 * time zone. Every condition given must hold; a condition left out matches every day.
 */
export interface EarnPromotion {
  /** Stable code, unique among the promotions (e.g. MEMBER_DAY). */
  code: string;
  name: string;
  multiplierPerMille: number;
  /** First day (YYYY-MM-DD, inclusive). */
  startsOn?: string | null;
  /** Last day (YYYY-MM-DD, inclusive). */
  endsOn?: string | null;
  /** ISO weekdays (1 = Monday ... 7 = Sunday). */
  weekdays?: number[] | null;
  /** Day of the month (1-31), e.g. 28 for member day. */
  dayOfMonth?: number | null;
  /**
   * Days the points of an order it applies to stay valid: the order's lot expires at the earlier of
   * this and the expiry policy's date. Null = the policy alone.
   */
  expiryDays?: number | null;
}

/** A store that earns at its own rate instead of `basePointsPerYuan`. */
export interface StoreRate {
  storeId: string;
  pointsPerYuan: number;
}

/**
 * Order lines of a category earn at the order's rate (the store's or the base) times this, in
 * per-mille: 0 = the category earns nothing (gift cards, tobacco), 3000 = triple points.
 */
export interface CategoryRate {
  category: string;
  perMille: number;
}

/** Everything that decides how many points an order earns. */
export interface EarnRules {
  basePointsPerYuan: number;
  tierMultipliers: TierMultiplier[];
  promotions: EarnPromotion[];
  storeRates: StoreRate[];
  categoryRates: CategoryRate[];
}

export function defaultEarnRules(basePointsPerYuan = 1): EarnRules {
  return { basePointsPerYuan, tierMultipliers: DEFAULT_TIER_MULTIPLIERS.map((t) => ({ ...t })), promotions: [], storeRates: [], categoryRates: [] };
}

/** An order line as earning sees it. */
export interface EarnOrderLine {
  category: string | null;
  /** Line amount in fen (before any order-level discount). */
  amount: number;
}

/** The order facts earning depends on. */
export interface EarnOrder {
  /** Paid amount in fen. */
  amount: number;
  /** Where it was bought (store rates); null or absent for orders without a store. */
  storeId?: string | null;
  /** The lines, when the source sent them (category rates); absent = the whole order at the order's rate. */
  lines?: readonly EarnOrderLine[] | null;
}

/** One component of an order's points: the base, the tier bonus, each promotion's bonus. */
export interface EarnLine {
  kind: 'BASE' | 'TIER' | 'PROMOTION';
  /** The tier (TIER) or promotion code (PROMOTION). */
  code: string | null;
  points: number;
}

/** True when `promotion` applies on local date `day`. */
export function promotionApplies(promotion: EarnPromotion, day: LocalDate): boolean {
  const date = dayOf(day.year, day.month, day.day);
  if (promotion.startsOn && date < promotion.startsOn) return false;
  if (promotion.endsOn && date > promotion.endsOn) return false;
  if (promotion.weekdays?.length && !promotion.weekdays.includes(day.weekday)) return false;
  if (promotion.dayOfMonth && promotion.dayOfMonth !== day.day) return false;
  return true;
}

function scale(points: bigint, perMille: number): bigint {
  // Integer arithmetic in BigInt: rounding down once per multiplier, never through floats.
  return (points * BigInt(perMille)) / BigInt(PER_MILLE);
}

/** The order's rate in points per whole yuan: its store's when the rules list the store, else the base rate. */
export function orderRate(order: Pick<EarnOrder, 'storeId'>, rules: Pick<EarnRules, 'basePointsPerYuan' | 'storeRates'>): number {
  const store = order.storeId == null ? undefined : rules.storeRates.find((s) => s.storeId === order.storeId);
  return store?.pointsPerYuan ?? rules.basePointsPerYuan;
}

/**
 * The lines' category multipliers averaged over the line amounts, as a fraction of per-mille
 * (`num / den`, den = 1000 x the lines' total); null when no line has a category rate (or the lines
 * carry no amount), so the whole order earns at the order's rate.
 */
function categoryWeight(lines: readonly EarnOrderLine[] | null | undefined, rates: readonly CategoryRate[]): { num: bigint; den: bigint } | null {
  if (!lines?.length || !rates.length) return null;
  const byCategory = new Map(rates.map((r) => [r.category, r.perMille]));
  let num = 0n;
  let sum = 0n;
  let matched = false;
  for (const line of lines) {
    const perMille = line.category == null ? undefined : byCategory.get(line.category);
    if (perMille !== undefined) matched = true;
    num += BigInt(line.amount) * BigInt(perMille ?? PER_MILLE);
    sum += BigInt(line.amount);
  }
  return matched && sum > 0n ? { num, den: sum * BigInt(PER_MILLE) } : null;
}

/**
 * The order's points before tier and promotions: whole yuan paid x the order's rate (the store's or
 * the base), x the lines' category multipliers averaged by line amount. The lines need not add up to
 * the paid amount (order discounts, shipping): each line stands for its share of what was paid
 * (its amount / all lines' amounts), so points are only ever earned on what was paid, never on the
 * lines' list prices. Exact in BigInt, rounded down once: floor(yuan x rate x sum(amount x perMille) / (1000 x sum(amount))).
 * Without lines, or when no line's category has a rate, it is exactly `pointsForOrder`.
 */
export function basePoints(order: EarnOrder, rules: Pick<EarnRules, 'basePointsPerYuan' | 'storeRates' | 'categoryRates'>): number {
  const plain = pointsForOrder(order.amount, { pointsPerYuan: orderRate(order, rules) });
  const weight = categoryWeight(order.lines, rules.categoryRates);
  if (!weight) return plain;
  const points = (BigInt(plain) * weight.num) / weight.den;
  if (points > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`points for ${order.amount} fen overflow`);
  return Number(points);
}

/**
 * The points an order earns, as lines that sum to the total: `basePoints` (whole yuan at the store's
 * or base rate, weighted by the lines' category rates), then the tier multiplier, then each matching
 * promotion in turn (multipliers compound; each step rounds down). `now` is the instant whose local
 * day decides the promotions (the order's completion). An unknown tier earns at x1.0. Lines after
 * BASE that add nothing are left out.
 */
export function computeEarn(order: EarnOrder, rules: EarnRules, tier: string, now: Date, timeZone: string): EarnLine[] {
  const base = basePoints(order, rules);
  const lines: EarnLine[] = [{ kind: 'BASE', code: null, points: base }];
  let total = BigInt(base);
  const tierPerMille = rules.tierMultipliers.find((t) => t.tier === tier)?.perMille ?? PER_MILLE;
  const push = (kind: EarnLine['kind'], code: string, perMille: number) => {
    const next = scale(total, perMille);
    if (next !== total) lines.push({ kind, code, points: Number(next - total) });
    total = next;
  };
  push('TIER', tier, tierPerMille);
  const day = localDate(now, timeZone);
  for (const promotion of rules.promotions) {
    if (promotionApplies(promotion, day)) push('PROMOTION', promotion.code, promotion.multiplierPerMille);
  }
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`points for ${order.amount} fen overflow`);
  return lines;
}

/**
 * The shortest `expiryDays` among the promotions that apply on the local day of `now` (the order's
 * completion); null when none of them shortens the expiry.
 */
export function promotionExpiryDays(rules: Pick<EarnRules, 'promotions'>, now: Date, timeZone: string): number | null {
  const day = localDate(now, timeZone);
  let days: number | null = null;
  for (const p of rules.promotions) {
    if (p.expiryDays != null && promotionApplies(p, day)) days = days === null ? p.expiryDays : Math.min(days, p.expiryDays);
  }
  return days;
}

/** The sum of an order's earn lines. */
export const earnTotal = (lines: readonly EarnLine[]): number => lines.reduce((s, l) => s + l.points, 0);

/** A rule that input breaks, naming the field (`basePointsPerYuan`, `promotions[1].endsOn`...). */
export interface RuleViolation {
  field: string;
  message: string;
}

const MAX_PER_MILLE = 100_000;
const MAX_PROMOTIONS = 50;
const MAX_STORE_RATES = 500;
const MAX_CATEGORY_RATES = 500;
/** Promotion expiry: at most ten years (the policy is shorter anyway). */
export const MAX_PROMOTION_EXPIRY_DAYS = 3650;
/** Store ids and categories as the order sources send them: 1-64 characters, no surrounding spaces. */
const isCode = (v: string) => v.length >= 1 && v.length <= 64 && v.trim() === v;

/** Everything wrong with a set of rules; empty when they can be saved. */
export function validateEarnRules(rules: EarnRules): RuleViolation[] {
  const out: RuleViolation[] = [];
  const bad = (field: string, message: string) => out.push({ field, message });
  const perMille = (field: string, v: number) => {
    if (!Number.isInteger(v) || v < 0 || v > MAX_PER_MILLE) bad(field, `must be a whole number of per-mille between 0 and ${MAX_PER_MILLE}`);
  };
  if (!Number.isInteger(rules.basePointsPerYuan) || rules.basePointsPerYuan < 0 || rules.basePointsPerYuan > 1_000) {
    bad('basePointsPerYuan', 'must be a whole number between 0 and 1000');
  }
  const tiers = new Set<string>();
  rules.tierMultipliers.forEach((t, i) => {
    if (!/^[A-Z][A-Z0-9_]{0,15}$/.test(t.tier)) bad(`tierMultipliers[${i}].tier`, 'must be an upper-case tier name of up to 16 characters');
    else if (tiers.has(t.tier)) bad(`tierMultipliers[${i}].tier`, `${t.tier} is listed twice`);
    tiers.add(t.tier);
    perMille(`tierMultipliers[${i}].perMille`, t.perMille);
  });
  if (rules.promotions.length > MAX_PROMOTIONS) bad('promotions', `at most ${MAX_PROMOTIONS} promotions`);
  const codes = new Set<string>();
  rules.promotions.forEach((p, i) => {
    const at = `promotions[${i}]`;
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(p.code)) bad(`${at}.code`, 'must be 1-32 letters, digits, _ or -');
    else if (codes.has(p.code)) bad(`${at}.code`, `${p.code} is listed twice`);
    codes.add(p.code);
    if (!p.name.trim() || p.name.length > 64) bad(`${at}.name`, 'must be 1-64 characters');
    perMille(`${at}.multiplierPerMille`, p.multiplierPerMille);
    if (p.startsOn != null && !isIsoDate(p.startsOn)) bad(`${at}.startsOn`, 'must be a date written YYYY-MM-DD');
    if (p.endsOn != null && !isIsoDate(p.endsOn)) bad(`${at}.endsOn`, 'must be a date written YYYY-MM-DD');
    if (p.startsOn && p.endsOn && isIsoDate(p.startsOn) && isIsoDate(p.endsOn) && p.endsOn < p.startsOn) bad(`${at}.endsOn`, 'must not be before startsOn');
    if (p.weekdays != null && (p.weekdays.length === 0 || p.weekdays.some((d) => !Number.isInteger(d) || d < 1 || d > 7) || new Set(p.weekdays).size !== p.weekdays.length)) {
      bad(`${at}.weekdays`, 'must be distinct ISO weekdays 1 (Monday) to 7 (Sunday), at least one');
    }
    if (p.dayOfMonth != null && (!Number.isInteger(p.dayOfMonth) || p.dayOfMonth < 1 || p.dayOfMonth > 31)) bad(`${at}.dayOfMonth`, 'must be between 1 and 31');
    if (p.expiryDays != null && (!Number.isInteger(p.expiryDays) || p.expiryDays < 1 || p.expiryDays > MAX_PROMOTION_EXPIRY_DAYS)) {
      bad(`${at}.expiryDays`, `must be a whole number of days between 1 and ${MAX_PROMOTION_EXPIRY_DAYS}`);
    }
  });
  if (rules.storeRates.length > MAX_STORE_RATES) bad('storeRates', `at most ${MAX_STORE_RATES} store rates`);
  const stores = new Set<string>();
  rules.storeRates.forEach((r, i) => {
    if (!isCode(r.storeId)) bad(`storeRates[${i}].storeId`, 'must be a store id of 1-64 characters without surrounding spaces');
    else if (stores.has(r.storeId)) bad(`storeRates[${i}].storeId`, `${r.storeId} is listed twice`);
    stores.add(r.storeId);
    if (!Number.isInteger(r.pointsPerYuan) || r.pointsPerYuan < 0 || r.pointsPerYuan > 1_000) bad(`storeRates[${i}].pointsPerYuan`, 'must be a whole number between 0 and 1000');
  });
  if (rules.categoryRates.length > MAX_CATEGORY_RATES) bad('categoryRates', `at most ${MAX_CATEGORY_RATES} category rates`);
  const categories = new Set<string>();
  rules.categoryRates.forEach((r, i) => {
    if (!isCode(r.category)) bad(`categoryRates[${i}].category`, 'must be a category of 1-64 characters without surrounding spaces');
    else if (categories.has(r.category)) bad(`categoryRates[${i}].category`, `${r.category} is listed twice`);
    categories.add(r.category);
    perMille(`categoryRates[${i}].perMille`, r.perMille);
  });
  return out;
}
