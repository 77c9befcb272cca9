import { EntitySchema } from 'typeorm';

/**
 * One row per member and evaluation day whose `member.tier_downgrade_warning` went out: claimed in
 * the same transaction as the event, so each member is warned at most once per evaluation however
 * often (or on however many replicas) the daily job runs.
 */
export interface TierDowngradeWarningRow {
  memberId: string;
  /** The evaluation's business day (tenant time zone, YYYY-MM-DD). */
  evaluationDate: string;
  /** The instant that evaluation runs as of (tenant midnight starting its day). */
  evaluationAt: Date;
  fromTier: string;
  /** The tier the evaluation would move the member to if they earned nothing more. */
  projectedTier: string;
  runId: string;
  warnedAt: Date;
}

export const TierDowngradeWarningEntity = new EntitySchema<TierDowngradeWarningRow>({
  name: 'TierDowngradeWarning',
  tableName: 'tier_downgrade_warning',
  columns: {
    memberId: { name: 'member_id', type: 'varchar', length: 26, primary: true },
    evaluationDate: { name: 'evaluation_date', type: 'char', length: 10, primary: true },
    evaluationAt: { name: 'evaluation_at', type: 'datetime', precision: 3 },
    fromTier: { name: 'from_tier', type: 'varchar', length: 20 },
    projectedTier: { name: 'projected_tier', type: 'varchar', length: 20 },
    runId: { name: 'run_id', type: 'varchar', length: 26 },
    warnedAt: { name: 'warned_at', type: 'datetime', precision: 3 },
  },
});
