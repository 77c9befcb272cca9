import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/** Where a checkout stands. PENDING: holding; CAPTURING: capture decided (only goes forward); RELEASING: failure decided (only goes back). */
export const PaymentStatus = {
  PENDING: 'PENDING',
  CAPTURING: 'CAPTURING',
  CAPTURED: 'CAPTURED',
  RELEASING: 'RELEASING',
  FAILED: 'FAILED',
} as const;
export type PaymentStatus = (typeof PaymentStatus)[keyof typeof PaymentStatus];

/**
 * The points part. REQUESTED is written before the hold call, so after a crash the outcome is
 * unknown: releasing repeats the (idempotent) hold call to learn the hold, then releases it.
 */
export const PointsStep = {
  NONE: 'NONE',
  REQUESTED: 'REQUESTED',
  HELD: 'HELD',
  CAPTURED: 'CAPTURED',
  RELEASED: 'RELEASED',
  /** Refused or never delivered: nothing to release. */
  NOT_HELD: 'NOT_HELD',
  /** The points service stayed unreachable past the hold's own expiry, which released it. */
  EXPIRED: 'EXPIRED',
} as const;
export type PointsStep = (typeof PointsStep)[keyof typeof PointsStep];

/** The balance part: moved by local journals, each in one transaction with this row. */
export const WalletStep = {
  NONE: 'NONE',
  HELD: 'HELD',
  CAPTURED: 'CAPTURED',
  RELEASED: 'RELEASED',
} as const;
export type WalletStep = (typeof WalletStep)[keyof typeof WalletStep];

/**
 * The coupon part. REQUESTED is written before the lock call (the outcome of an unanswered call is
 * learnt by releasing, which is idempotent per coupon and payment). RESTORE_PENDING is written in
 * the transaction of a full refund, before the restore call; recovery repeats the call.
 */
export const CouponStep = {
  NONE: 'NONE',
  REQUESTED: 'REQUESTED',
  LOCKED: 'LOCKED',
  REDEEMED: 'REDEEMED',
  RELEASED: 'RELEASED',
  /** Refused: nothing to release. */
  NOT_LOCKED: 'NOT_LOCKED',
  RESTORE_PENDING: 'RESTORE_PENDING',
  RESTORED: 'RESTORED',
} as const;
export type CouponStep = (typeof CouponStep)[keyof typeof CouponStep];

/** A checkout saga and its step states; every transition is a guarded UPDATE of this row. */
export interface PaymentRow {
  id: string;
  memberId: string;
  orderRef: string;
  /** The store the order was paid at (cross-store settlement); null online. */
  storeId: string | null;
  idempotencyKey: string;
  /** requestFingerprint of the request without its key and OTP. */
  fingerprint: string;
  amount: number;
  pointsUsed: number;
  pointsValue: number;
  couponDiscount: number;
  walletAmount: number;
  /** How the held balance split (set with the hold). */
  fromPrincipal: number;
  fromBonus: number;
  refundedPrincipal: number;
  refundedBonus: number;
  status: PaymentStatus;
  pointsStep: PointsStep;
  pointsHoldId: string | null;
  walletStep: WalletStep;
  couponCode: string | null;
  couponStep: CouponStep;
  couponId: string | null;
  /** Points given back by refunds so far. */
  refundedPoints: number;
  /** The business day whose daily-cap total the balance part counts in (set when it is taken); a release takes it back from that day's total. */
  riskDay: string | null;
  failureReason: string | null;
  failureDetail: string | null;
  /** The holds' time to live: PENDING after this is released. */
  expiresAt: Date;
  /** Until when the process driving it owns it; recovery takes over only after. */
  leaseUntil: Date;
  createdAt: Date;
  updatedAt: Date;
}

export const PaymentEntity = new EntitySchema<PaymentRow>({
  name: 'Payment',
  tableName: 'wallet_payment',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    orderRef: { name: 'order_ref', type: 'varchar', length: 100 },
    storeId: { name: 'store_id', type: 'varchar', length: 64, nullable: true },
    idempotencyKey: { name: 'idem_key', type: 'varchar', length: 128, unique: true },
    fingerprint: { type: 'char', length: 64 },
    amount: { type: 'bigint', transformer: bigintColumn },
    pointsUsed: { name: 'points_used', type: 'bigint', transformer: bigintColumn },
    pointsValue: { name: 'points_value', type: 'bigint', transformer: bigintColumn },
    couponDiscount: { name: 'coupon_discount', type: 'bigint', transformer: bigintColumn },
    walletAmount: { name: 'wallet_amount', type: 'bigint', transformer: bigintColumn },
    fromPrincipal: { name: 'from_principal', type: 'bigint', default: 0, transformer: bigintColumn },
    fromBonus: { name: 'from_bonus', type: 'bigint', default: 0, transformer: bigintColumn },
    refundedPrincipal: { name: 'refunded_principal', type: 'bigint', default: 0, transformer: bigintColumn },
    refundedBonus: { name: 'refunded_bonus', type: 'bigint', default: 0, transformer: bigintColumn },
    status: { type: 'varchar', length: 16 },
    pointsStep: { name: 'points_step', type: 'varchar', length: 16 },
    pointsHoldId: { name: 'points_hold_id', type: 'varchar', length: 64, nullable: true },
    walletStep: { name: 'wallet_step', type: 'varchar', length: 16 },
    couponCode: { name: 'coupon_code', type: 'varchar', length: 64, nullable: true },
    couponStep: { name: 'coupon_step', type: 'varchar', length: 16, default: 'NONE' },
    couponId: { name: 'coupon_id', type: 'varchar', length: 64, nullable: true },
    refundedPoints: { name: 'refunded_points', type: 'bigint', default: 0, transformer: bigintColumn },
    riskDay: { name: 'risk_day', type: 'char', length: 10, nullable: true },
    failureReason: { name: 'failure_reason', type: 'varchar', length: 64, nullable: true },
    failureDetail: { name: 'failure_detail', type: 'varchar', length: 255, nullable: true },
    expiresAt: { name: 'expires_at', type: 'datetime', precision: 3 },
    leaseUntil: { name: 'lease_until', type: 'datetime', precision: 3 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
  },
  indices: [
    // Daily cap: a member's payments of the business day.
    { name: 'idx_payment_member', columns: ['memberId', 'createdAt'] },
    // Recovery: unfinished sagas whose lease ran out.
    { name: 'idx_payment_open', columns: ['status', 'leaseUntil'] },
    // Order.payments.
    { name: 'idx_payment_order', columns: ['orderRef'] },
    // Recovery: coupons to restore after a full refund.
    { name: 'idx_payment_coupon', columns: ['couponStep'] },
  ],
});
