/** Events of the marketing service (stream MARKETING). */
import { z } from 'zod';
import { id } from './common';

export const MarketingEventType = {
  CouponIssued: 'coupon.issued',
  CouponLocked: 'coupon.locked',
  CouponRedeemed: 'coupon.redeemed',
  CouponReleased: 'coupon.released',
  CouponRestored: 'coupon.restored',
} as const;

/** A coupon was issued to a member. Ids only: read the coupon through the graph. */
export const couponIssued = z.object({
  couponId: id,
  memberId: id,
  templateId: id,
});
export type CouponIssued = z.infer<typeof couponIssued>;

/**
 * One payment's step on a member's coupon (`MarketingRpc`), subject = member id. Ids only: read the
 * coupon through the graph.
 */
export const couponPaymentStep = z.object({
  couponId: id,
  memberId: id,
  paymentId: id,
});

/** A checkout locked the coupon (ISSUED -> LOCKED). */
export const couponLocked = couponPaymentStep;
export type CouponLocked = z.infer<typeof couponLocked>;
/** The payment that locked the coupon captured it (LOCKED -> REDEEMED). */
export const couponRedeemed = couponPaymentStep;
export type CouponRedeemed = z.infer<typeof couponRedeemed>;
/** The lock was given back (LOCKED -> ISSUED): by its payment, or because it lapsed (LOCK_TTL_SECONDS). */
export const couponReleased = couponPaymentStep;
export type CouponReleased = z.infer<typeof couponReleased>;
/** The payment that redeemed the coupon was fully refunded, so the member has it again (REDEEMED -> ISSUED). */
export const couponRestored = couponPaymentStep;
export type CouponRestored = z.infer<typeof couponRestored>;

export const marketingEventSchemas = {
  [MarketingEventType.CouponIssued]: couponIssued,
  [MarketingEventType.CouponLocked]: couponLocked,
  [MarketingEventType.CouponRedeemed]: couponRedeemed,
  [MarketingEventType.CouponReleased]: couponReleased,
  [MarketingEventType.CouponRestored]: couponRestored,
} as const;

/**
 * Coupon locking for the wallet's checkout saga, over NATS request/reply (`serveRequests` /
 * `callRequest`). A coupon goes ISSUED -> LOCKED (by one payment) -> REDEEMED, or back to ISSUED on
 * release; a full refund of the payment restores a REDEEMED coupon to ISSUED. Errors come back as
 * AppErrors: NOT_FOUND (no such code for this member), CONFLICT (locked by another payment,
 * already redeemed, expired or void; field `couponCode`), BAD_USER_INPUT (order below the
 * coupon's minimum spend). Every call is idempotent per (couponCode, paymentId).
 */
export const MarketingRpc = {
  /** Locks a member's coupon for a payment and returns the discount it gives on `orderAmount`. */
  LockCoupon: 'rpc.marketing.lock_coupon',
  /** Marks a coupon locked by the payment as REDEEMED. */
  RedeemCoupon: 'rpc.marketing.redeem_coupon',
  /** Gives a coupon locked by the payment back (ISSUED). */
  ReleaseCoupon: 'rpc.marketing.release_coupon',
  /** Restores a coupon the payment redeemed (its full refund). */
  RestoreCoupon: 'rpc.marketing.restore_coupon',
} as const;

export const lockCouponRequest = z.object({
  memberId: id,
  couponCode: z.string().min(1).max(64),
  paymentId: id,
  /** The order amount the coupon applies to, in fen. */
  orderAmount: z.number().int().positive(),
});
export type LockCouponRequest = z.infer<typeof lockCouponRequest>;

export const couponPaymentRequest = z.object({ couponCode: z.string().min(1).max(64), paymentId: id });
export type CouponPaymentRequest = z.infer<typeof couponPaymentRequest>;

export const couponLockReply = z.object({
  couponId: id,
  couponCode: z.string(),
  status: z.enum(['ISSUED', 'LOCKED', 'REDEEMED']),
  /** The discount on the order, in fen (never more than the order amount). */
  discount: z.number().int().nonnegative(),
});
export type CouponLockReply = z.infer<typeof couponLockReply>;
