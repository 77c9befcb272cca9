import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/**
 * How many points one entry took from one lot: debits (SPEND, negative ADJUST, EXPIRE, REVERSE),
 * HOLD (the reserved points). A RELEASE gives a hold's points back as negative draws on the same
 * lots. A REVERSE that went into debt gains draws later, as new points repay it.
 */
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
