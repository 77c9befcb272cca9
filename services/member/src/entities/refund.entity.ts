import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/** A full or partial refund of a recorded order; (source, refundId) is its natural idempotency key. */
export interface RefundRow {
  id: string;
  source: string;
  /** The refund id in the source system. */
  refundId: string;
  orderId: string;
  externalOrderId: string;
  memberId: string;
  amount: number;
  /** Growth this refund took back from the order. */
  growthReversed: number;
  refundedAt: Date;
  recordedBy: string;
}

export const RefundEntity = new EntitySchema<RefundRow>({
  name: 'Refund',
  tableName: 'member_refund',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    source: { type: 'varchar', length: 64 },
    refundId: { name: 'refund_id', type: 'varchar', length: 128 },
    orderId: { name: 'order_id', type: 'varchar', length: 26 },
    externalOrderId: { name: 'external_order_id', type: 'varchar', length: 128 },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    amount: { type: 'bigint', transformer: bigintColumn },
    growthReversed: { name: 'growth_reversed', type: 'bigint', transformer: bigintColumn },
    refundedAt: { name: 'refunded_at', type: 'datetime', precision: 3 },
    recordedBy: { name: 'recorded_by', type: 'varchar', length: 64 },
  },
  uniques: [{ name: 'uq_refund_source_refund', columns: ['source', 'refundId'] }],
  indices: [{ name: 'idx_refund_order', columns: ['orderId', 'id'] }],
});
