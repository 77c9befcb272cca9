import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { CouponUseStatus, ReleaseReason } from '../domain/coupon-lock';

/**
 * One payment's use of one coupon, from its lock on. It outlives the coupon's current state, so every
 * saga step stays idempotent per (coupon, payment) even after another payment has taken the coupon.
 */
export interface CouponUseRow {
  couponId: string;
  paymentId: string;
  memberId: string;
  /** The order amount the lock was asked for, in fen: a repeat with another amount is a CONFLICT. */
  orderAmount: number;
  /** The discount the lock granted, in fen. */
  discount: number;
  status: CouponUseStatus;
  lockedAt: Date;
  redeemedAt: Date | null;
  releasedAt: Date | null;
  releaseReason: ReleaseReason | null;
  restoredAt: Date | null;
}

export const CouponUseEntity = new EntitySchema<CouponUseRow>({
  name: 'CouponUse',
  tableName: 'coupon_use',
  columns: {
    couponId: { name: 'coupon_id', type: 'varchar', length: 26, primary: true },
    paymentId: { name: 'payment_id', type: 'varchar', length: 64, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    orderAmount: { name: 'order_amount', type: 'bigint', transformer: bigintColumn },
    discount: { type: 'bigint', transformer: bigintColumn },
    status: { type: 'varchar', length: 16 },
    lockedAt: { name: 'locked_at', type: 'datetime', precision: 3 },
    redeemedAt: { name: 'redeemed_at', type: 'datetime', precision: 3, nullable: true },
    releasedAt: { name: 'released_at', type: 'datetime', precision: 3, nullable: true },
    releaseReason: { name: 'release_reason', type: 'varchar', length: 16, nullable: true },
    restoredAt: { name: 'restored_at', type: 'datetime', precision: 3, nullable: true },
  },
});
