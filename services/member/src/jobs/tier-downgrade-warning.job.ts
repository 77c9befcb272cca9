import { audit, newId, type ServiceKit, businessDay, startOfBusinessDay } from '@membergraph/platform';
import type { MemberConfig } from '../config';
import { inWarningWindow, nextEvaluationDay } from '../domain/evaluation-schedule';
import { loadLadder, tierPolicy } from '../services/tier.service';
import { alreadyWarned, membersOnTier, projectDowngrades, warnDowngrades, type UpcomingEvaluation } from '../services/tier-warning.service';

const BATCH = 500;

export interface TierDowngradeWarningSummary {
  asOf: Date;
  /** The business day run (tenant time zone). */
  businessDate: string;
  /** The next evaluation day after it, and the instant it evaluates as of. */
  evaluationDate: string;
  evaluationAt: Date;
  /** Whether the business day is inside that evaluation's warning window (else nothing was checked). */
  due: boolean;
  /** Members above the entry tier looked at (not yet warned). */
  checked: number;
  warned: number;
  alreadyWarned: number;
}

/**
 * Warns the members the next tier evaluation would move down (`member.tier_downgrade_warning`),
 * when the business day of `asOf` is within TIER_WARNING_DAYS before it: the evaluation's own rule
 * (`evaluate`, protection period included) on the standing they will have then if they earn nothing
 * more. Once per member and evaluation; a member who only becomes due later in the window (a refund)
 * is warned by a later day's run. Tier by tier, one unit of work per page.
 */
export async function runTierDowngradeWarnings(kit: ServiceKit<MemberConfig>, actor: string, asOf: Date): Promise<TierDowngradeWarningSummary> {
  const { TENANT_TIME_ZONE: tz, TIER_EVALUATION_MONTHS: months, TIER_WARNING_DAYS: warnDays } = kit.config;
  const day = businessDay(asOf, tz);
  const evaluationDate = nextEvaluationDay(day, months);
  const evaluation: UpcomingEvaluation = { runId: newId(), evaluationDate, evaluationAt: startOfBusinessDay(evaluationDate, tz) };
  const due = inWarningWindow(day, evaluationDate, warnDays);
  const summary: TierDowngradeWarningSummary = { asOf, businessDate: day, evaluationDate, evaluationAt: evaluation.evaluationAt, due, checked: 0, warned: 0, alreadyWarned: 0 };
  if (!due) return summary;
  const ladder = await loadLadder(kit.ds.manager);
  const policy = tierPolicy(kit);
  // The entry tier cannot move down; tiers no longer on the ladder are left to staff (as the evaluation does).
  for (const tier of ladder.slice(1)) {
    let after = '';
    for (;;) {
      const page = await membersOnTier(kit.ds.manager, tier.code, after, BATCH);
      const warned = await alreadyWarned(kit.ds.manager, evaluationDate, page.map((m) => m.id));
      const fresh = page.filter((m) => !warned.has(m.id));
      summary.alreadyWarned += warned.size;
      summary.checked += fresh.length;
      const downgrades = await projectDowngrades(kit, kit.ds.manager, fresh, ladder, policy, evaluation.evaluationAt);
      const sent = await kit.uow((em) => warnDowngrades(kit, em, evaluation, downgrades));
      summary.warned += sent;
      summary.alreadyWarned += downgrades.length - sent;
      if (page.length < BATCH) break;
      after = page.at(-1)!.id;
    }
  }
  await kit.uow((em) =>
    audit(em, actor, 'tier.downgrade_warning_run', evaluationDate, { ...summary, asOf: asOf.toISOString(), evaluationAt: evaluation.evaluationAt.toISOString() }),
  );
  kit.log.info({ ...summary }, 'tier downgrade warnings done');
  return summary;
}
