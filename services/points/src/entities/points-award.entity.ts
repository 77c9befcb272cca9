import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/**
 * One capped earning (orders, check-ins, reviews, shares, profile completion), keyed by its
 * natural idempotency key: what the rule asked for, what the member's daily caps let through, on
 * which tenant business day. Caps sum `granted` per member and day. `entryId` is the EARN entry
 * (null when nothing was granted, or while an order's points are pending).
 */
export interface PointsAwardRow {
  key: string;
  memberId: string;
  /** ORDER, CHECK_IN, REVIEW, SHARE, PROFILE_COMPLETED. */
  rule: string;
  reference: string | null;
  /** YYYY-MM-DD in TENANT_TIME_ZONE. */
  businessDay: string;
  requested: number;
  granted: number;
  /** The cap that cut it (RULE or TOTAL), null when granted in full. */
  cappedBy: string | null;
  entryId: string | null;
  /**
   * At most this many days of validity for the earning's lot (the shortest `expiryDays` of the
   * promotions that applied); kept so a lot credited later (pending release, review approval) gets it too.
   */
  lotExpiryDays: number | null;
  createdAt: Date;
}

export const PointsAwardEntity = new EntitySchema<PointsAwardRow>({
  name: 'PointsAward',
  tableName: 'points_award',
  columns: {
    key: { name: 'award_key', type: 'varchar', length: 128, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    rule: { type: 'varchar', length: 32 },
    reference: { type: 'varchar', length: 128, nullable: true },
    businessDay: { name: 'business_day', type: 'char', length: 10 },
    requested: { type: 'bigint', transformer: bigintColumn },
    granted: { type: 'bigint', transformer: bigintColumn },
    cappedBy: { name: 'capped_by', type: 'varchar', length: 16, nullable: true },
    entryId: { name: 'entry_id', type: 'varchar', length: 26, nullable: true },
    lotExpiryDays: { name: 'lot_expiry_days', type: 'int', nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
  indices: [{ name: 'idx_points_award_day', columns: ['memberId', 'businessDay', 'rule'] }],
});
