/** Events of the points service (stream POINTS). */
import { z } from 'zod';
import { id, isoTime } from './common';

export const PointsEventType = {
  PointsEarned: 'points.earned',
  PointsAdjusted: 'points.adjusted',
  PointsExpired: 'points.expired',
  PointsExpiringSoon: 'points.expiring_soon',
  PointsRewardRedeemed: 'points.reward_redeemed',
} as const;

export const pointsEarned = z.object({
  memberId: id,
  /** The ledger entry that recorded the earning. */
  entryId: id,
  /** Points earned (positive). */
  amount: z.number().int().positive(),
  /** The balance right after the earning. */
  balance: z.number().int(),
  /** WELCOME, ORDER... */
  reason: z.string().min(1),
  /** The order id (ORDER) or announcing event id (WELCOME). */
  reference: z.string().nullable(),
});
export type PointsEarned = z.infer<typeof pointsEarned>;

/** Staff moved points by hand (compensation, correction). */
export const pointsAdjusted = z.object({
  memberId: id,
  entryId: id,
  /** Signed change in points (never zero). */
  delta: z.number().int().refine((n) => n !== 0, 'delta is never zero'),
  /** The balance right after the adjustment. */
  balance: z.number().int(),
  /** The staff user or client who adjusted (an id, not a name). */
  operator: id,
});
export type PointsAdjusted = z.infer<typeof pointsAdjusted>;

/** An expiry run took a member's lots that were past their expiry: one event per member per run. */
export const pointsExpired = z.object({
  memberId: id,
  /** The EXPIRE entry. */
  entryId: id,
  /** Points expired (positive). */
  amount: z.number().int().positive(),
  /** The balance right after the expiry. */
  balance: z.number().int(),
  /** How many lots expired. */
  lots: z.number().int().positive(),
  /** The run's cut-off: lots expiring at or before it were taken. */
  asOf: isoTime,
  runId: id,
});
export type PointsExpired = z.infer<typeof pointsExpired>;

/**
 * Points will expire soon: one event per member and threshold (30 or 7 days ahead) per reminder run,
 * each lot reminded at most once per threshold. Marketing turns it into a reminder message.
 */
export const pointsExpiringSoon = z.object({
  memberId: id,
  /** The threshold: the lots expire within this many days of `asOf` (30 or 7). */
  daysAhead: z.number().int().positive(),
  /** Points still in those lots when the run looked. */
  amount: z.number().int().positive(),
  /** How many lots. */
  lots: z.number().int().positive(),
  /** The soonest expiry among them. */
  firstExpiresAt: isoTime,
  /** The run's clock. */
  asOf: isoTime,
  runId: id,
});
export type PointsExpiringSoon = z.infer<typeof pointsExpiringSoon>;

/**
 * A member redeemed points for a catalogue reward (the SPEND entry is committed). For a COUPON reward
 * marketing issues `quantity` coupons of `couponTemplateId` to the member, once per `redemptionId`;
 * GIFT and VIRTUAL redemptions are announced too (couponTemplateId null) for whoever tracks them.
 */
export const pointsRewardRedeemed = z.object({
  memberId: id,
  /** Unique per redemption: the idempotency key for whoever acts on it. */
  redemptionId: id,
  rewardId: id,
  rewardType: z.enum(['COUPON', 'GIFT', 'VIRTUAL']),
  quantity: z.number().int().positive(),
  /** Points spent (cost x quantity). */
  points: z.number().int().positive(),
  /** The SPEND entry. */
  entryId: id,
  /** COUPON only: the coupon to issue. */
  couponTemplateId: z.string().min(1).nullable(),
  redeemedAt: isoTime,
});
export type PointsRewardRedeemed = z.infer<typeof pointsRewardRedeemed>;

export const pointsEventSchemas = {
  [PointsEventType.PointsEarned]: pointsEarned,
  [PointsEventType.PointsAdjusted]: pointsAdjusted,
  [PointsEventType.PointsExpired]: pointsExpired,
  [PointsEventType.PointsExpiringSoon]: pointsExpiringSoon,
  [PointsEventType.PointsRewardRedeemed]: pointsRewardRedeemed,
} as const;

/**
 * Points holds over NATS request/reply (`serveRequests` / `callRequest`), used by the wallet's
 * checkout saga. Errors come back as AppErrors: INSUFFICIENT_FUNDS, NOT_FOUND (no such hold or
 * account), CONFLICT (a hold resolves once: capture after release or the reverse; an
 * idempotency key reused with other input), BAD_USER_INPUT.
 */
export const PointsRpc = {
  /** Reserves points for a payment; the hold releases itself at `expiresAt` unless captured. */
  Hold: 'rpc.points.hold',
  /** Spends a hold's points (FIFO from the lots it reserved); repeating it returns the same result. */
  Capture: 'rpc.points.capture',
  /** Gives a hold's points back; repeating it returns the same result. */
  Release: 'rpc.points.release',
} as const;

export const holdPointsRequest = z.object({
  memberId: id,
  /** Points to reserve, > 0. */
  amount: z.number().int().positive(),
  /** What the hold is for, e.g. the payment id. */
  reference: z.string().min(1).max(128),
  /** Same key + same input returns the first hold. */
  idempotencyKey: z.string().min(1).max(128),
  /** Seconds until the hold releases itself (default decided by the points service). */
  ttlSeconds: z.number().int().positive().max(86_400).optional(),
});
export type HoldPointsRequest = z.infer<typeof holdPointsRequest>;

export const resolveHoldRequest = z.object({ holdId: id });
export type ResolveHoldRequest = z.infer<typeof resolveHoldRequest>;

export const pointsHoldReply = z.object({
  holdId: id,
  memberId: id,
  amount: z.number().int().positive(),
  status: z.enum(['HELD', 'CAPTURED', 'RELEASED', 'EXPIRED']),
  expiresAt: z.string().datetime({ offset: true }),
});
export type PointsHoldReply = z.infer<typeof pointsHoldReply>;

/**
 * Giving back points a captured hold spent, when the wallet refunds a payment: the points return to
 * the lots they came from with their original expiry; lots already expired are not revived (that
 * part is reported as `expired`). Idempotent per (holdId, refundId); never more than was captured.
 */
export const PointsRefundRpc = {
  RefundHold: 'rpc.points.refund_hold',
} as const;

export const refundHoldRequest = z.object({
  holdId: id,
  /** The wallet's refund id: the idempotency key of this give-back. */
  refundId: id,
  /** Points to give back, > 0, at most what the hold captured minus earlier give-backs. */
  amount: z.number().int().positive(),
});
export type RefundHoldRequest = z.infer<typeof refundHoldRequest>;

export const refundHoldReply = z.object({
  holdId: id,
  /** Points back in spendable lots. */
  restored: z.number().int().nonnegative(),
  /** Points whose lots had expired meanwhile (not revived). */
  expired: z.number().int().nonnegative(),
});
export type RefundHoldReply = z.infer<typeof refundHoldReply>;
