import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { CouponStatus } from '../domain/coupon';

/** One coupon held by a member. `issueKey` makes every issuing path idempotent. */
export interface CouponRow {
  id: string;
  /** The random code shown at checkout. */
  code: string;
  templateId: string;
  memberId: string;
  status: CouponStatus;
  /** Discount in fen, copied from the template at issue. */
  amount: number;
  issuedAt: Date;
  expiresAt: Date;
  issueKey: string;
  /** The payment holding the coupon while it is LOCKED or REDEEMED; null otherwise. */
  paymentId: string | null;
  /** When the current lock was taken (LOCKED, and kept once REDEEMED); null otherwise. */
  lockedAt: Date | null;
  /** When it was redeemed (REDEEMED only). */
  redeemedAt: Date | null;
}

export const CouponEntity = new EntitySchema<CouponRow>({
  name: 'Coupon',
  tableName: 'coupon',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    code: { type: 'varchar', length: 16 },
    templateId: { name: 'template_id', type: 'varchar', length: 26 },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    status: { type: 'varchar', length: 16 },
    amount: { type: 'bigint', transformer: bigintColumn },
    issuedAt: { name: 'issued_at', type: 'datetime', precision: 3 },
    expiresAt: { name: 'expires_at', type: 'datetime', precision: 3 },
    issueKey: { name: 'issue_key', type: 'varchar', length: 128 },
    paymentId: { name: 'payment_id', type: 'varchar', length: 64, nullable: true },
    lockedAt: { name: 'locked_at', type: 'datetime', precision: 3, nullable: true },
    redeemedAt: { name: 'redeemed_at', type: 'datetime', precision: 3, nullable: true },
  },
  uniques: [
    { name: 'uq_coupon_code', columns: ['code'] },
    { name: 'uq_coupon_issue_key', columns: ['issueKey'] },
  ],
  indices: [
    { name: 'idx_coupon_member', columns: ['memberId', 'id'] },
    // The lock sweeper's scan: LOCKED coupons by lock age.
    { name: 'idx_coupon_status_locked', columns: ['status', 'lockedAt'] },
  ],
});
