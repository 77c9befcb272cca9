/** Events of the marketing service (stream MARKETING). */
import { z } from 'zod';
import { id } from './common';

export const MarketingEventType = {
  CouponIssued: 'coupon.issued',
} as const;

/** A coupon was issued to a member. Ids only: read the coupon through the graph. */
export const couponIssued = z.object({
  couponId: id,
  memberId: id,
  templateId: id,
});
export type CouponIssued = z.infer<typeof couponIssued>;

export const marketingEventSchemas = {
  [MarketingEventType.CouponIssued]: couponIssued,
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
