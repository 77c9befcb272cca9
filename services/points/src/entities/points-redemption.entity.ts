import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { RedemptionStatus, RewardType } from '../domain/rewards';

/** One redemption of a reward by a member: the SPEND entry that paid for it and where its fulfilment stands. */
export interface PointsRedemptionRow {
  id: string;
  rewardId: string;
  memberId: string;
  rewardType: RewardType;
  quantity: number;
  /** Points spent (cost x quantity). */
  points: number;
  /** The SPEND entry. */
  entryId: string;
  status: RedemptionStatus;
  /** The operator's note on the last fulfilment step (carrier and tracking number...). */
  note: string | null;
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string | null;
}

export const PointsRedemptionEntity = new EntitySchema<PointsRedemptionRow>({
  name: 'PointsRedemption',
  tableName: 'points_redemption',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    rewardId: { name: 'reward_id', type: 'varchar', length: 26 },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    rewardType: { name: 'reward_type', type: 'varchar', length: 16 },
    quantity: { type: 'int' },
    points: { type: 'bigint', transformer: bigintColumn },
    entryId: { name: 'entry_id', type: 'varchar', length: 26 },
    status: { type: 'varchar', length: 16 },
    note: { type: 'varchar', length: 255, nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
    updatedBy: { name: 'updated_by', type: 'varchar', length: 64, nullable: true },
  },
  indices: [{ name: 'idx_points_redemption_member', columns: ['memberId', 'rewardId'] }],
});
