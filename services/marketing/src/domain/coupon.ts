/** Where a coupon is in its life. */
export const CouponStatus = {
  ISSUED: 'ISSUED',
  LOCKED: 'LOCKED',
  REDEEMED: 'REDEEMED',
  EXPIRED: 'EXPIRED',
  VOID: 'VOID',
} as const;
export type CouponStatus = (typeof CouponStatus)[keyof typeof CouponStatus];
export const COUPON_STATUSES = Object.values(CouponStatus) as CouponStatus[];

const DAY_MS = 24 * 3600_000;

/**
 * When a coupon issued at `issuedAt` stops being valid: exactly `validDays` days later (UTC instants,
 * no rounding to a business day yet).
 */
export function couponExpiresAt(issuedAt: Date, validDays: number): Date {
  if (!Number.isInteger(validDays) || validDays < 1) throw new RangeError(`validDays must be a positive integer, got ${validDays}`);
  return new Date(issuedAt.getTime() + validDays * DAY_MS);
}

/**
 * The status a caller sees: an ISSUED coupon past its expiry is EXPIRED even before a sweep has
 * written that down. A LOCKED coupon stays LOCKED so its checkout can still settle it.
 */
export function effectiveStatus(coupon: { status: CouponStatus; expiresAt: Date }, now: Date): CouponStatus {
  if (coupon.status === CouponStatus.ISSUED && coupon.expiresAt.getTime() <= now.getTime()) return CouponStatus.EXPIRED;
  return coupon.status;
}

/** The idempotency key of the coupon a registration earns from one template. */
export function registrationIssueKey(memberId: string, templateId: string): string {
  return `registration:${memberId}:${templateId}`;
}

/**
 * The idempotency key of the `n`-th coupon (1-based) a points redemption buys: one per unit, so a
 * redelivered or repeated `points.reward_redeemed` never issues more than `quantity` coupons.
 */
export function rewardIssueKey(redemptionId: string, n: number): string {
  return `reward:${redemptionId}:${n}`;
}
