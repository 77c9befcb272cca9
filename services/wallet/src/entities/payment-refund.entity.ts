import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/** One (partial) refund of a captured payment's balance part. */
export interface PaymentRefundRow {
  id: string;
  paymentId: string;
  memberId: string;
  amount: number;
  toPrincipal: number;
  toBonus: number;
  journalId: string;
  /** Points to give back with PointsRefundRpc.RefundHold (0: none). */
  points: number;
  /** NONE, PENDING (the give-back is owed; recovery repeats it), DONE, FAILED (refused: an operator looks). */
  pointsStep: string;
  pointsRestored: number;
  pointsExpired: number;
  createdAt: Date;
}

export const RefundPointsStep = { NONE: 'NONE', PENDING: 'PENDING', DONE: 'DONE', FAILED: 'FAILED' } as const;

export const PaymentRefundEntity = new EntitySchema<PaymentRefundRow>({
  name: 'PaymentRefund',
  tableName: 'wallet_payment_refund',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    paymentId: { name: 'payment_id', type: 'varchar', length: 26 },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    amount: { type: 'bigint', transformer: bigintColumn },
    toPrincipal: { name: 'to_principal', type: 'bigint', transformer: bigintColumn },
    toBonus: { name: 'to_bonus', type: 'bigint', transformer: bigintColumn },
    journalId: { name: 'journal_id', type: 'varchar', length: 26 },
    points: { type: 'bigint', default: 0, transformer: bigintColumn },
    pointsStep: { name: 'points_step', type: 'varchar', length: 16, default: 'NONE' },
    pointsRestored: { name: 'points_restored', type: 'bigint', default: 0, transformer: bigintColumn },
    pointsExpired: { name: 'points_expired', type: 'bigint', default: 0, transformer: bigintColumn },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
  indices: [
    { name: 'idx_payment_refund_payment', columns: ['paymentId', 'createdAt'] },
    { name: 'idx_payment_refund_points', columns: ['pointsStep'] },
  ],
});
