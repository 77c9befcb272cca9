import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { OrderLine } from '../domain/order';

/** Lines as JSON text (they are only ever read with their order). */
const linesColumn = {
  to: (v: OrderLine[] | null | undefined) => (v ? JSON.stringify(v) : null),
  from: (v: string | null) => (v ? (JSON.parse(v) as OrderLine[]) : null),
};

/** A completed order; (source, externalId) is the natural idempotency key. */
export interface OrderRow {
  id: string;
  source: string;
  externalId: string;
  memberId: string;
  amount: number;
  /** Refunded so far, in fen (<= amount). */
  refundedAmount: number;
  /** Growth this order still gives (what it earned minus what its refunds took back). */
  growth: number;
  lines: OrderLine[] | null;
  storeId: string | null;
  channel: string;
  completedAt: Date;
  recordedAt: Date;
  recordedBy: string;
}

export const OrderEntity = new EntitySchema<OrderRow>({
  name: 'Order',
  tableName: 'member_order',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    source: { type: 'varchar', length: 64 },
    externalId: { name: 'external_id', type: 'varchar', length: 128 },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    amount: { type: 'bigint', transformer: bigintColumn },
    refundedAmount: { name: 'refunded_amount', type: 'bigint', default: 0, transformer: bigintColumn },
    growth: { type: 'bigint', default: 0, transformer: bigintColumn },
    lines: { type: 'text', nullable: true, transformer: linesColumn },
    storeId: { name: 'store_id', type: 'varchar', length: 64, nullable: true },
    channel: { type: 'varchar', length: 20 },
    completedAt: { name: 'completed_at', type: 'datetime', precision: 3 },
    recordedAt: { name: 'recorded_at', type: 'datetime', precision: 3 },
    recordedBy: { name: 'recorded_by', type: 'varchar', length: 64 },
  },
  uniques: [{ name: 'uq_order_source_external', columns: ['source', 'externalId'] }],
  indices: [
    { name: 'idx_order_member', columns: ['memberId', 'id'] },
    // Rolling-window spend and growth per member (tiers).
    { name: 'idx_order_member_completed', columns: ['memberId', 'completedAt'] },
  ],
});
