import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { RewardType } from '../domain/rewards';

/** A catalogue reward members redeem points for. `stock` is what is left; redemptions lower it under the row lock. */
export interface PointsRewardRow {
  id: string;
  name: string;
  description: string | null;
  type: RewardType;
  /** Points per unit. */
  cost: number;
  /** Units left. */
  stock: number;
  /** Units redeemed so far. */
  redeemed: number;
  /** Units one member may redeem in all; null = no limit. */
  perMemberLimit: number | null;
  validFrom: Date | null;
  /** Exclusive. */
  validUntil: Date | null;
  /** Comma-separated tier codes allowed; null = every tier. */
  tiers: string | null;
  /** COUPON only: which coupon marketing issues. */
  couponTemplateId: string | null;
  createdBy: string;
  createdAt: Date;
}

export const PointsRewardEntity = new EntitySchema<PointsRewardRow>({
  name: 'PointsReward',
  tableName: 'points_reward',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    name: { type: 'varchar', length: 64 },
    description: { type: 'varchar', length: 255, nullable: true },
    type: { type: 'varchar', length: 16 },
    cost: { type: 'bigint', transformer: bigintColumn },
    stock: { type: 'int' },
    redeemed: { type: 'int', default: 0 },
    perMemberLimit: { name: 'per_member_limit', type: 'int', nullable: true },
    validFrom: { name: 'valid_from', type: 'datetime', precision: 3, nullable: true },
    validUntil: { name: 'valid_until', type: 'datetime', precision: 3, nullable: true },
    tiers: { type: 'varchar', length: 255, nullable: true },
    couponTemplateId: { name: 'coupon_template_id', type: 'varchar', length: 64, nullable: true },
    createdBy: { name: 'created_by', type: 'varchar', length: 64 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
});
