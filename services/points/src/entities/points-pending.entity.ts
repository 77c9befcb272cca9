import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/**
 * An order's points waiting for its return window to close (RETURN_WINDOW_DAYS > 0). Not in the
 * balance and not spendable. Refunds inside the window raise `cancelled`; at `releaseAt` the rest
 * (amount - cancelled) is credited as the order's EARN entry (RELEASED) or nothing is (CANCELLED).
 */
export interface PointsPendingRow {
  orderId: string;
  memberId: string;
  /** Points the order earned (after caps). */
  amount: number;
  /** Points refunds took away before release. */
  cancelled: number;
  status: 'PENDING' | 'RELEASED' | 'CANCELLED';
  releaseAt: Date;
  entryId: string | null;
  createdAt: Date;
  resolvedAt: Date | null;
}

export const PointsPendingEntity = new EntitySchema<PointsPendingRow>({
  name: 'PointsPending',
  tableName: 'points_pending',
  columns: {
    orderId: { name: 'order_id', type: 'varchar', length: 64, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    amount: { type: 'bigint', transformer: bigintColumn },
    cancelled: { type: 'bigint', default: 0, transformer: bigintColumn },
    status: { type: 'varchar', length: 16 },
    releaseAt: { name: 'release_at', type: 'datetime', precision: 3 },
    entryId: { name: 'entry_id', type: 'varchar', length: 26, nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    resolvedAt: { name: 'resolved_at', type: 'datetime', precision: 3, nullable: true },
  },
  indices: [
    { name: 'idx_points_pending_due', columns: ['status', 'releaseAt'] },
    { name: 'idx_points_pending_member', columns: ['memberId', 'status'] },
  ],
});
