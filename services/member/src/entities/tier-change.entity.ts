import { EntitySchema } from 'typeorm';

/** A member's move on the tier ladder (the history `myData` returns; events leave the outbox after days). */
export interface TierChangeRow {
  id: string;
  memberId: string;
  fromTier: string;
  toTier: string;
  /** UPGRADE, DOWNGRADE or MANUAL. */
  reason: string;
  changedAt: Date;
}

export const TierChangeEntity = new EntitySchema<TierChangeRow>({
  name: 'TierChange',
  tableName: 'member_tier_change',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    fromTier: { name: 'from_tier', type: 'varchar', length: 20 },
    toTier: { name: 'to_tier', type: 'varchar', length: 20 },
    reason: { type: 'varchar', length: 16 },
    changedAt: { name: 'changed_at', type: 'datetime', precision: 3 },
  },
  indices: [{ name: 'idx_tier_change_member', columns: ['memberId', 'id'] }],
});
