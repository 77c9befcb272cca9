import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { ReviewStatus, VelocityRule } from '../domain/fraud';

/**
 * An earning a velocity rule put on hold: nothing was credited; approving credits it (EARN entry under
 * the earning's own key), rejecting drops it. Decided once, by ADMIN or SUPPORT, audited.
 */
export interface PointsReviewRow {
  id: string;
  /** The earning's natural key (its award row and, once approved, its EARN entry). */
  awardKey: string;
  memberId: string;
  /** ORDER, CHECK_IN, REVIEW, SHARE, PROFILE_COMPLETED. */
  rule: string;
  /** The EARN entry's reason once approved. */
  reason: string;
  reference: string | null;
  /** Points to credit on approval (after the daily caps). */
  points: number;
  earnedAt: Date;
  flaggedBy: VelocityRule;
  detail: string;
  /** Cleared when the member is erased. */
  deviceId: string | null;
  ip: string | null;
  status: ReviewStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  note: string | null;
  entryId: string | null;
  createdAt: Date;
}

export const PointsReviewEntity = new EntitySchema<PointsReviewRow>({
  name: 'PointsReview',
  tableName: 'points_review',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    awardKey: { name: 'award_key', type: 'varchar', length: 128 },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    rule: { type: 'varchar', length: 32 },
    reason: { type: 'varchar', length: 32 },
    reference: { type: 'varchar', length: 128, nullable: true },
    points: { type: 'bigint', transformer: bigintColumn },
    earnedAt: { name: 'earned_at', type: 'datetime', precision: 3 },
    flaggedBy: { name: 'flagged_by', type: 'varchar', length: 16 },
    detail: { type: 'varchar', length: 255 },
    deviceId: { name: 'device_id', type: 'varchar', length: 64, nullable: true },
    ip: { type: 'varchar', length: 45, nullable: true },
    status: { type: 'varchar', length: 16 },
    decidedBy: { name: 'decided_by', type: 'varchar', length: 64, nullable: true },
    decidedAt: { name: 'decided_at', type: 'datetime', precision: 3, nullable: true },
    note: { type: 'varchar', length: 255, nullable: true },
    entryId: { name: 'entry_id', type: 'varchar', length: 26, nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
  uniques: [{ name: 'uq_points_review_award', columns: ['awardKey'] }],
  indices: [
    { name: 'idx_points_review_status', columns: ['status', 'id'] },
    { name: 'idx_points_review_member', columns: ['memberId'] },
  ],
});
