import { CouponStatus, effectiveStatus } from './coupon';

/** The four calls of the checkout saga on a coupon (MarketingRpc). */
export type CouponStep = 'LOCK' | 'REDEEM' | 'RELEASE' | 'RESTORE';

/** Where one payment's use of one coupon stands: the row that makes every step idempotent. */
export const CouponUseStatus = {
  LOCKED: 'LOCKED',
  REDEEMED: 'REDEEMED',
  RELEASED: 'RELEASED',
  RESTORED: 'RESTORED',
} as const;
export type CouponUseStatus = (typeof CouponUseStatus)[keyof typeof CouponUseStatus];

/** Why a lock was given back. */
export const ReleaseReason = { PAYMENT: 'PAYMENT', EXPIRED: 'EXPIRED' } as const;
export type ReleaseReason = (typeof ReleaseReason)[keyof typeof ReleaseReason];

/** The coupon's status a step leaves behind, which is also the status its reply names. */
export const STEP_RESULT = {
  LOCK: CouponStatus.LOCKED,
  REDEEM: CouponStatus.REDEEMED,
  RELEASE: CouponStatus.ISSUED,
  RESTORE: CouponStatus.ISSUED,
} as const satisfies Record<CouponStep, CouponStatus>;

/** What the payment's use becomes when a step applies. */
export const STEP_USE_STATUS = {
  LOCK: CouponUseStatus.LOCKED,
  REDEEM: CouponUseStatus.REDEEMED,
  RELEASE: CouponUseStatus.RELEASED,
  RESTORE: CouponUseStatus.RESTORED,
} as const satisfies Record<CouponStep, CouponUseStatus>;

/** When a lock taken at `lockedAt` lapses. */
export function lockExpiresAt(lockedAt: Date, ttlSeconds: number): Date {
  return new Date(lockedAt.getTime() + ttlSeconds * 1000);
}

/** A lock lapses from `lockedAt + ttl` on (the instant itself included, like coupon expiry). */
export function lockExpired(lockedAt: Date | null, now: Date, ttlSeconds: number): boolean {
  return lockedAt !== null && lockExpiresAt(lockedAt, ttlSeconds).getTime() <= now.getTime();
}

export type StepDecision =
  /** Do it: the coupon moves to STEP_RESULT[step]. */
  | { kind: 'apply' }
  /** Another payment's lock has lapsed: release it (EXPIRED), then lock for this payment. */
  | { kind: 'takeover' }
  /** This payment already did this step (or went past it): answer as the first time. */
  | { kind: 'replay' }
  | { kind: 'conflict'; reason: string };

export interface CouponState {
  status: CouponStatus;
  expiresAt: Date;
  /** The payment holding the coupon while LOCKED or REDEEMED. */
  paymentId: string | null;
  lockedAt: Date | null;
}

/**
 * What a saga step does to a coupon, given this payment's earlier use of it (`use`, null when it
 * never locked it). Pure: the service applies the decision under the coupon's row lock.
 */
export function decideCouponStep(step: CouponStep, coupon: CouponState, use: CouponUseStatus | null, now: Date, lockTtlSeconds: number): StepDecision {
  const conflict = (reason: string): StepDecision => ({ kind: 'conflict', reason });
  switch (step) {
    case 'LOCK': {
      if (use) return { kind: 'replay' };
      const status = effectiveStatus(coupon, now);
      if (status === CouponStatus.ISSUED) return { kind: 'apply' };
      if (status === CouponStatus.LOCKED) {
        if (!lockExpired(coupon.lockedAt, now, lockTtlSeconds)) return conflict('Coupon is locked by another payment');
        // A lapsed lock the sweeper has not reached yet must not keep the coupon from a new checkout.
        return coupon.expiresAt.getTime() > now.getTime() ? { kind: 'takeover' } : conflict('Coupon has expired');
      }
      if (status === CouponStatus.REDEEMED) return conflict('Coupon has already been redeemed');
      if (status === CouponStatus.EXPIRED) return conflict('Coupon has expired');
      return conflict('Coupon is void');
    }
    case 'REDEEM':
      if (use === CouponUseStatus.REDEEMED || use === CouponUseStatus.RESTORED) return { kind: 'replay' };
      if (use === CouponUseStatus.LOCKED) {
        if (lockExpired(coupon.lockedAt, now, lockTtlSeconds)) return conflict('The lock of this payment has expired');
        return { kind: 'apply' };
      }
      return conflict(use === CouponUseStatus.RELEASED ? 'The lock of this payment was released' : 'Coupon is not locked by this payment');
    case 'RELEASE':
      if (use === CouponUseStatus.RELEASED) return { kind: 'replay' };
      if (use === CouponUseStatus.LOCKED) return { kind: 'apply' };
      return conflict(use ? 'Coupon was redeemed by this payment: restore it instead' : 'Coupon is not locked by this payment');
    case 'RESTORE':
      if (use === CouponUseStatus.RESTORED) return { kind: 'replay' };
      if (use === CouponUseStatus.REDEEMED) return { kind: 'apply' };
      return conflict('Coupon was not redeemed by this payment');
  }
}
