/**
 * Checkout (combined payment) rules, data in and data out: how an order splits over points and
 * balance, the risk caps, the step-up threshold, how a refund goes back to the sub-balances, and
 * where a business day starts.
 */
import { addDays, businessDayBoundsAt, isIsoDate, startOfBusinessDay } from '@membergraph/platform';
import type { WalletBalances } from './wallet';

/** Largest number of points one payment may use. */
export const MAX_POINTS_PER_PAYMENT = 1_000_000_000;

export interface PointsRules {
  /** Points worth one yuan (100 fen); default 100, i.e. one point per fen. */
  pointsPerYuan: number;
  /** At most this percent of the order may be paid with points; default 50. */
  maxSharePercent: number;
}

export const DEFAULT_POINTS_RULES: PointsRules = { pointsPerYuan: 100, maxSharePercent: 50 };

/** How an order is paid. */
export interface CheckoutPlan {
  amount: number;
  pointsUsed: number;
  /** What the points pay, in fen. */
  pointsValue: number;
  /** What the coupon takes off, in fen: 0 when planned, set once the coupon is locked. */
  couponDiscount: number;
  /** The rest, paid from the wallet balance, in fen. */
  walletAmount: number;
}

export type PlanResult = { ok: true; plan: CheckoutPlan } | { ok: false; field: string; message: string };

/**
 * Splits an order of `amount` fen paid with `pointsToUse` points: the points must convert to whole
 * fen and cover at most `maxSharePercent` of the order; the balance pays the rest.
 */
export function planCheckout(amount: number, pointsToUse: number, rules: PointsRules = DEFAULT_POINTS_RULES): PlanResult {
  if (!Number.isSafeInteger(amount) || amount < 1) return { ok: false, field: 'amount', message: 'amount must be a whole number of fen, at least 1' };
  if (!Number.isSafeInteger(pointsToUse) || pointsToUse < 0 || pointsToUse > MAX_POINTS_PER_PAYMENT) {
    return { ok: false, field: 'pointsToUse', message: `pointsToUse must be a whole number from 0 to ${MAX_POINTS_PER_PAYMENT}` };
  }
  // value = points * 100 / pointsPerYuan fen, exact: a fraction of a fen is never paid with points.
  const scaled = pointsToUse * 100;
  if (scaled % rules.pointsPerYuan !== 0) {
    const step = rules.pointsPerYuan / gcd(100, rules.pointsPerYuan);
    return { ok: false, field: 'pointsToUse', message: `pointsToUse must be a multiple of ${step} (${rules.pointsPerYuan} points = 1 yuan)` };
  }
  const pointsValue = scaled / rules.pointsPerYuan;
  // pointsValue / amount <= maxSharePercent / 100, in integers.
  if (pointsValue * 100 > amount * rules.maxSharePercent) {
    return { ok: false, field: 'pointsToUse', message: `points may pay at most ${rules.maxSharePercent}% of the order` };
  }
  return { ok: true, plan: { amount, pointsUsed: pointsToUse, pointsValue, couponDiscount: 0, walletAmount: amount - pointsValue } };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Whether a payment of `amount` fen needs the member's PAYMENT one-time code (strictly above the threshold). */
export const needsOtp = (amount: number, threshold: number) => amount > threshold;

export interface RiskRules {
  /** Most balance one payment may take, in fen. */
  singlePaymentCap: number;
  /** Most balance a member may spend in one business day, in fen. */
  dailyCap: number;
  /** Velocity: more than this many balance payments by one member within the window are refused; 0 turns the rule off. */
  velocityMaxPayments: number;
  /** The velocity window, in minutes. */
  velocityWindowMinutes: number;
}

export const RiskRule = { SINGLE_PAYMENT_CAP: 'SINGLE_PAYMENT_CAP', DAILY_CAP: 'DAILY_CAP', VELOCITY: 'VELOCITY' } as const;
export type RiskRule = (typeof RiskRule)[keyof typeof RiskRule];

export interface RiskHit {
  rule: RiskRule;
  /** The cap: fen for the amount rules, a number of payments for VELOCITY. */
  limit: number;
  /** What the rule compared with its limit (fen, or this payment's place in the window for VELOCITY). */
  attempted: number;
}

/** What the member did before this payment, as the risk rules see it. */
export interface RiskHistory {
  /** Balance spent (held or captured) in this business day, in fen. */
  spentToday: number;
  /** Balance payments (held or captured) within the velocity window. */
  recentPayments: number;
}

/** The first risk rule a balance spend of `walletAmount` breaks, given the member's history; null when none. */
export function riskVerdict(walletAmount: number, history: RiskHistory, rules: RiskRules): RiskHit | null {
  if (walletAmount > rules.singlePaymentCap) return { rule: RiskRule.SINGLE_PAYMENT_CAP, limit: rules.singlePaymentCap, attempted: walletAmount };
  if (history.spentToday + walletAmount > rules.dailyCap) return { rule: RiskRule.DAILY_CAP, limit: rules.dailyCap, attempted: history.spentToday + walletAmount };
  if (rules.velocityMaxPayments > 0 && history.recentPayments + 1 > rules.velocityMaxPayments) {
    return { rule: RiskRule.VELOCITY, limit: rules.velocityMaxPayments, attempted: history.recentPayments + 1 };
  }
  return null;
}

/**
 * The member's running daily total, kept on the account row so the daily cap is judged from the
 * row the payment locks (exact under concurrency, no history query): the business day
 * (YYYY-MM-DD, tenant calendar) it counts and the balance taken (held or captured, not released)
 * in it. `day` null: never counted (an account from before the counter): rebuilt from history.
 */
export interface DailySpend {
  day: string | null;
  spent: number;
}

/** What `counter` says was taken on `today`: its total when it counts today, 0 when it counts an earlier day, null when unknown. */
export function spentOn(counter: DailySpend, today: string): number | null {
  if (counter.day === null) return null;
  return counter.day === today ? counter.spent : 0;
}

/**
 * The counter after taking `amount` on `today`; `spentToday` is what was taken today before it (from
 * {@link spentOn}, or rebuilt from history when that is unknown). A new day starts from zero.
 */
export const addSpend = (today: string, spentToday: number, amount: number): DailySpend => ({ day: today, spent: spentToday + amount });

/**
 * The counter after giving back `amount` taken on `day` (a released hold): only the current day's
 * total moves; an earlier day's no longer matters, and an unknown one is rebuilt from history
 * (which leaves released payments out).
 */
export function removeSpend(counter: DailySpend, day: string, amount: number): DailySpend {
  if (counter.day !== day) return counter;
  return { day, spent: Math.max(0, counter.spent - amount) };
}

export interface FreezeRules {
  /** This many risk hits by one member within the window freeze the wallet; 0 turns auto-freeze off. */
  freezeAfterHits: number;
  /** The window, in minutes. */
  freezeWindowMinutes: number;
}

/** Whether `hitsInWindow` risk hits (the new one included) freeze the wallet. */
export const shouldFreeze = (hitsInWindow: number, rules: FreezeRules) => rules.freezeAfterHits > 0 && hitsInWindow >= rules.freezeAfterHits;

/**
 * What a refund of `amount` fen returns to each sub-balance: the payment's principal/bonus split,
 * applied to the running refunded total (bonus rounded down, so a full refund returns exactly what
 * was taken and partial refunds never drift). Null when `amount` exceeds what is left to refund.
 */
export function splitPaymentRefund(paid: WalletBalances, refunded: WalletBalances, amount: number): WalletBalances | null {
  const total = paid.principal + paid.bonus;
  const done = refunded.principal + refunded.bonus;
  if (!Number.isSafeInteger(amount) || amount < 1 || done + amount > total) return null;
  const after = done + amount;
  // after * bonus <= 1e9 * 1e9 can exceed 2^53: compute in BigInt.
  const bonusAfter = Number((BigInt(after) * BigInt(paid.bonus)) / BigInt(total));
  const bonus = bonusAfter - refunded.bonus;
  return { principal: amount - bonus, bonus };
}

/**
 * Points to give back with a refund, on the running total like {@link splitPaymentRefund}: after
 * refunding `refundedAfter` of the `walletPaid` balance, floor(pointsUsed * refundedAfter / walletPaid)
 * points are back in all, so a full refund returns every point. Returns this refund's share.
 */
export function pointsToGiveBack(pointsUsed: number, walletPaid: number, refundedBefore: number, refundedAfter: number, pointsBackBefore: number): number {
  if (pointsUsed <= 0 || walletPaid <= 0) return 0;
  if (refundedAfter >= walletPaid) return pointsUsed - pointsBackBefore;
  const due = Number((BigInt(pointsUsed) * BigInt(refundedAfter)) / BigInt(walletPaid));
  return Math.max(0, due - pointsBackBefore);
}

/**
 * The instants a business day `date` (YYYY-MM-DD) starts and ends in `timeZone`; null when `date`
 * is not a calendar date.
 */
export function businessDayBounds(date: string, timeZone: string): { start: Date; end: Date } | null {
  if (!isIsoDate(date)) return null;
  return { start: startOfBusinessDay(date, timeZone), end: startOfBusinessDay(addDays(date, 1), timeZone) };
}

/** The instant the business day containing `now` started, in `timeZone` (e.g. Asia/Shanghai midnight). */
export function businessDayStart(now: Date, timeZone: string): Date {
  return businessDayBoundsAt(now, timeZone).start;
}
