import { hostname } from 'node:os';
import { IntervalWorker, businessDay, newId, runClaimed, startOfBusinessDay, type ServiceKit } from '@membergraph/platform';
import type { MemberConfig } from '../config';
import { daysToCover, isEvaluationDay } from '../domain/evaluation-schedule';
import { runTierEvaluation } from './tier-evaluation.job';
import { runBirthdayJob } from './birthday.job';
import { runTierDowngradeWarnings } from './tier-downgrade-warning.job';

/** Names this replica on its claims (pod name in Kubernetes, then pid and a unique part). */
const REPLICA = `${hostname()}:${process.pid}:${newId()}`.slice(-64);

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
 * Each (job, day) runs under the kit's `runClaimed`: one replica claims it in `job_run`, a finished
 * run is not checked again, and another replica takes over a claim whose lease (JOB_LEASE_MINUTES)
 * lapsed unfinished; every job also claims per member, so even an overlapping run finds nothing to
 * do. A failing job is logged and retried at the next check; the others still run.
 */
export async function runDueJobs(kit: ServiceKit<MemberConfig>, now = new Date(), replica = REPLICA): Promise<ScheduledRun[]> {
  const { TENANT_TIME_ZONE: tz, TIER_EVALUATION_MONTHS: months, JOB_CATCH_UP_DAYS: catchUp, JOB_LEASE_MINUTES: leaseMinutes } = kit.config;
  const today = businessDay(now, tz);
  const days = daysToCover(today, catchUp);
  const ran: ScheduledRun[] = [];
  const once = async (job: string, day: string, run: (asOf: Date) => Promise<object>) => {
    try {
      const claimed = await runClaimed(kit.ds, { job, runKey: day, replica, leaseMs: leaseMinutes * 60_000, now }, () => run(startOfBusinessDay(day, tz)));
      if (claimed) ran.push({ job, day, ok: true });
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
