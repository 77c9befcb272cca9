import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/**
 * One give-back of a captured hold's points (`rpc.points.refund_hold`), keyed by (hold, the
 * wallet's refund id) so a retried refund gives nothing twice. `amount` = `restored` (back in
 * their lots, the RESTORE entry) + `expired` (their lots had expired: not revived, no entry).
 */
export interface PointsHoldRefundRow {
  holdId: string;
  refundId: string;
  memberId: string;
  amount: number;
  restored: number;
  expired: number;
  /** The RESTORE entry; null when every point's lot had expired. */
  entryId: string | null;
  createdAt: Date;
}

export const PointsHoldRefundEntity = new EntitySchema<PointsHoldRefundRow>({
  name: 'PointsHoldRefund',
  tableName: 'points_hold_refund',
  columns: {
    holdId: { name: 'hold_id', type: 'varchar', length: 26, primary: true },
    refundId: { name: 'refund_id', type: 'varchar', length: 64, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    amount: { type: 'bigint', transformer: bigintColumn },
    restored: { type: 'bigint', transformer: bigintColumn },
    expired: { type: 'bigint', transformer: bigintColumn },
    entryId: { name: 'entry_id', type: 'varchar', length: 26, nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
});
