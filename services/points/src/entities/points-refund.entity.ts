import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/**
 * One `order.refunded` as this service handled it, keyed by the refund id (so a refund is applied
 * once, however many events announce it). PARKED while the order's earning is unknown (the refund
 * arrived first); APPLIED once its reversal is written. `due` is what the refund had to take back
 * (cumulative rule, see domain/refunds.ts); `reversed` what it took, `debt` the part no lot held
 * (policy DEBT), `forgiven` the part not taken (policy CAP_AT_ZERO).
 */
export interface PointsRefundRow {
  refundId: string;
  orderId: string;
  memberId: string;
  /** Fen: this refund, all refunds of the order so far, the order's paid amount. */
  amount: number;
  refundedTotal: number;
  orderAmount: number;
  refundedAt: Date;
  status: 'PARKED' | 'APPLIED';
  due: number;
  reversed: number;
  debt: number;
  forgiven: number;
  /** The REVERSE entry, when points were taken. */
  entryId: string | null;
  receivedAt: Date;
  appliedAt: Date | null;
}

export const PointsRefundEntity = new EntitySchema<PointsRefundRow>({
  name: 'PointsRefund',
  tableName: 'points_refund',
  columns: {
    refundId: { name: 'refund_id', type: 'varchar', length: 64, primary: true },
    orderId: { name: 'order_id', type: 'varchar', length: 64 },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    amount: { type: 'bigint', transformer: bigintColumn },
    refundedTotal: { name: 'refunded_total', type: 'bigint', transformer: bigintColumn },
    orderAmount: { name: 'order_amount', type: 'bigint', transformer: bigintColumn },
    refundedAt: { name: 'refunded_at', type: 'datetime', precision: 3 },
    status: { type: 'varchar', length: 16 },
    due: { type: 'bigint', default: 0, transformer: bigintColumn },
    reversed: { type: 'bigint', default: 0, transformer: bigintColumn },
    debt: { type: 'bigint', default: 0, transformer: bigintColumn },
    forgiven: { type: 'bigint', default: 0, transformer: bigintColumn },
    entryId: { name: 'entry_id', type: 'varchar', length: 26, nullable: true },
    receivedAt: { name: 'received_at', type: 'datetime', precision: 3 },
    appliedAt: { name: 'applied_at', type: 'datetime', precision: 3, nullable: true },
  },
  indices: [{ name: 'idx_points_refund_order', columns: ['orderId', 'status'] }],
});
