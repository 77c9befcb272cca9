import { In } from 'typeorm';
import { IntervalWorker, type ServiceKit, businessDay, startOfBusinessDay } from '@membergraph/platform';
import type { MemberConfig } from '../config';
import { JobRunEntity } from '../entities/job-run.entity';
import { daysToCover, isEvaluationDay } from '../domain/evaluation-schedule';
import { runTierEvaluation } from './tier-evaluation.job';
import { runBirthdayJob } from './birthday.job';
import { runTierDowngradeWarnings } from './tier-downgrade-warning.job';

/** The operator scheduled runs are audited under. */
export const SCHEDULER_ACTOR = 'system:scheduler';

export const ScheduledJob = {
  TierEvaluation: 'tier_evaluation',
  Birthday: 'birthday',
  TierDowngradeWarning: 'tier_downgrade_warning',
} as const;

export interface ScheduledRun {
  job: string;
  day: string;
  ok: boolean;
}

/**
 * One check of the scheduler at `now`: runs what is due and not yet done, each job as of the start
 * (tenant midnight) of its business day, oldest day first:
 * - the tier evaluation on every evaluation day (TIER_EVALUATION_MONTHS),
 * - the birthday job every day,
 * for today and the JOB_CATCH_UP_DAYS before (days missed while no replica ran); then
 * - the downgrade warnings for today only (any day of the window warns everyone due, so missed days
 *   need no catch-up).
 * A finished job is recorded in `job_run` and not checked again. Replicas checking together may run
 * the same day twice: every job claims per member first, so the second run finds nothing to do. A
 * failing job is logged and retried at the next check; the others still run.
 */
export async function runDueJobs(kit: ServiceKit<MemberConfig>, now = new Date()): Promise<ScheduledRun[]> {
  const { TENANT_TIME_ZONE: tz, TIER_EVALUATION_MONTHS: months, JOB_CATCH_UP_DAYS: catchUp } = kit.config;
  const today = businessDay(now, tz);
  const days = daysToCover(today, catchUp);
  const finished = await kit.ds.getRepository(JobRunEntity).find({ select: { job: true, runKey: true }, where: { runKey: In(days) } });
  const done = new Set(finished.map((r) => `${r.job}:${r.runKey}`));
  const ran: ScheduledRun[] = [];
  const once = async (job: string, day: string, run: (asOf: Date) => Promise<object>) => {
    if (done.has(`${job}:${day}`)) return;
    try {
      const summary = await run(startOfBusinessDay(day, tz));
      await kit.ds
        .getRepository(JobRunEntity)
        .createQueryBuilder()
        .insert()
        .values({ job, runKey: day, finishedAt: new Date(), summary: JSON.stringify(summary) })
        .orIgnore()
        .execute();
      ran.push({ job, day, ok: true });
    } catch (err) {
      kit.log.error({ err, job, day }, 'scheduled job failed; the next check retries it');
      ran.push({ job, day, ok: false });
    }
  };
  for (const day of days) {
    if (isEvaluationDay(day, months)) await once(ScheduledJob.TierEvaluation, day, (asOf) => runTierEvaluation(kit, SCHEDULER_ACTOR, asOf));
  }
  for (const day of days) await once(ScheduledJob.Birthday, day, (asOf) => runBirthdayJob(kit, SCHEDULER_ACTOR, asOf));
  await once(ScheduledJob.TierDowngradeWarning, today, (asOf) => runTierDowngradeWarnings(kit, SCHEDULER_ACTOR, asOf));
  return ran;
}

/** The scheduler of this replica: checks every JOB_CHECK_INTERVAL_MS (0 = off). */
export function schedulerWorker(kit: ServiceKit<MemberConfig>): IntervalWorker {
  return new IntervalWorker('scheduled jobs', kit.config.JOB_CHECK_INTERVAL_MS, kit.log, () => runDueJobs(kit));
}
