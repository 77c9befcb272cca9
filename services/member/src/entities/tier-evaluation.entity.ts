import { EntitySchema } from 'typeorm';

/**
 * One row per member and evaluation date: claimed first in the member's evaluation transaction, so
 * re-running (or concurrently running) the evaluation of a day evaluates each member once.
 */
export interface TierEvaluationRow {
  memberId: string;
  /** The evaluation day, YYYY-MM-DD (UTC). */
  evalDate: string;
  asOf: Date;
  fromTier: string;
  toTier: string;
  /** DOWNGRADE, or why the tier was kept: QUALIFIES, PROTECTED, CHANGED_AFTER, UNKNOWN_TIER. */
  outcome: string;
  evaluatedAt: Date;
}

export const TierEvaluationEntity = new EntitySchema<TierEvaluationRow>({
  name: 'TierEvaluation',
  tableName: 'tier_evaluation',
  columns: {
    memberId: { name: 'member_id', type: 'varchar', length: 26, primary: true },
    evalDate: { name: 'eval_date', type: 'char', length: 10, primary: true },
    asOf: { name: 'as_of', type: 'datetime', precision: 3 },
    fromTier: { name: 'from_tier', type: 'varchar', length: 20 },
    toTier: { name: 'to_tier', type: 'varchar', length: 20 },
    outcome: { type: 'varchar', length: 16 },
    evaluatedAt: { name: 'evaluated_at', type: 'datetime', precision: 3 },
  },
});
