import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/** How many points one debit entry (SPEND, negative ADJUST, EXPIRE) took from one lot. Append-only. */
export interface PointsDrawRow {
  entryId: string;
  lotId: string;
  memberId: string;
  amount: number;
}

export const PointsDrawEntity = new EntitySchema<PointsDrawRow>({
  name: 'PointsDraw',
  tableName: 'points_draw',
  columns: {
    entryId: { name: 'entry_id', type: 'varchar', length: 26, primary: true },
    lotId: { name: 'lot_id', type: 'varchar', length: 26, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    amount: { type: 'bigint', transformer: bigintColumn },
  },
  indices: [
    { name: 'idx_points_draw_lot', columns: ['lotId'] },
    { name: 'idx_points_draw_member', columns: ['memberId'] },
  ],
});
