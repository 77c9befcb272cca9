import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/**
 * Points credited by one entry (EARN or a positive ADJUST), spendable until `expiresAt`.
 * `remaining` goes down by debits and holds (FIFO, recorded in points_draw) and by the expiry job,
 * and back up only when a hold is released (a negative draw of the RELEASE entry): the points
 * return with the lot's original expiry.
 */
export interface PointsLotRow {
  id: string;
  memberId: string;
  /** The entry that credited the lot. */
  entryId: string;
  /** Points credited. */
  amount: number;
  /** Points not yet spent or expired. */
  remaining: number;
  earnedAt: Date;
  expiresAt: Date;
}

export const PointsLotEntity = new EntitySchema<PointsLotRow>({
  name: 'PointsLot',
  tableName: 'points_lot',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    entryId: { name: 'entry_id', type: 'varchar', length: 26 },
    amount: { type: 'bigint', transformer: bigintColumn },
    remaining: { type: 'bigint', transformer: bigintColumn },
    earnedAt: { name: 'earned_at', type: 'datetime', precision: 3 },
    expiresAt: { name: 'expires_at', type: 'datetime', precision: 3 },
  },
  indices: [
    // FIFO picking and expiringSoon read one member's lots in expiry order.
    { name: 'idx_points_lot_fifo', columns: ['memberId', 'expiresAt', 'earnedAt'] },
    // The expiry job finds lots past their date across all members.
    { name: 'idx_points_lot_expiry', columns: ['expiresAt'] },
    { name: 'idx_points_lot_entry', columns: ['entryId'] },
  ],
});
