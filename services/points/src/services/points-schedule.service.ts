import { affectedRows, newId, type ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../config';
import { dailySlot } from '../domain/schedule';
import { runPointsExpiry } from './points-expiry.service';
import { runExpiryReminders } from './points-reminder.service';

/** The jobs the scheduler runs once per tenant business day. */
export const DailyJob = {
  POINTS_EXPIRY: 'POINTS_EXPIRY',
  EXPIRY_REMINDERS: 'EXPIRY_REMINDERS',
} as const;
export type DailyJob = (typeof DailyJob)[keyof typeof DailyJob];

/** The operator on EXPIRE entries written by the scheduled run. */
export const EXPIRY_SCHEDULER = 'system:expiry-scheduler';

export interface DailyJobRun {
  job: DailyJob;
  businessDay: string;
  runId: string;
  /** What the job reported (its own run id and counts). */
  result: unknown;
}

/** The local time (minutes after midnight) from which `job` is due each day. */
function runAt(config: PointsConfig, job: DailyJob): number {
  return job === DailyJob.POINTS_EXPIRY ? config.POINTS_EXPIRY_RUN_AT : config.EXPIRY_REMINDER_RUN_AT;
}

/**
 * Runs `job` for the business day of `now` if it is due (its configured local time has passed) and
 * no replica has run it yet; null when there is nothing to do. One replica wins the day's row
 * (INSERT IGNORE on (job, business day)); a claim whose replica died unfinished can be taken over
 * after DAILY_JOBS_LEASE_MINUTES. Even then two runs at once are harmless: the expiry run re-reads
 * every member's lots under the account lock and the reminders claim each (lot, threshold) once, so
 * the second run only finds less to do. A failed run gives its claim back so the next tick retries.
 */
export async function runDailyJob(kit: ServiceKit<PointsConfig>, job: DailyJob, replica: string, now = new Date()): Promise<DailyJobRun | null> {
  const slot = dailySlot(now, kit.config.TENANT_TIME_ZONE, runAt(kit.config, job));
  if (!slot.due) return null;
  // The common case on every tick after the run: one primary-key read.
  const [seen] = (await kit.ds.query('SELECT finished_at, lease_until FROM points_job_run WHERE job = ? AND business_day = ?', [job, slot.businessDay])) as Array<{
    finished_at: Date | null;
    lease_until: Date;
  }>;
  if (seen && (seen.finished_at || new Date(seen.lease_until) > now)) return null;
  const runId = newId();
  const leaseUntil = new Date(now.getTime() + kit.config.DAILY_JOBS_LEASE_MINUTES * 60_000);
  const claimed = seen
    ? await kit.ds.query(
        `UPDATE points_job_run SET run_id = ?, claimed_by = ?, lease_until = ?, attempts = attempts + 1, started_at = ?
          WHERE job = ? AND business_day = ? AND finished_at IS NULL AND lease_until <= ?`,
        [runId, replica, leaseUntil, now, job, slot.businessDay, now],
      )
    : await kit.ds.query(
        `INSERT IGNORE INTO points_job_run (job, business_day, run_id, claimed_by, lease_until, attempts, started_at, finished_at, result)
         VALUES (?, ?, ?, ?, ?, 1, ?, NULL, NULL)`,
        [job, slot.businessDay, runId, replica, leaseUntil, now],
      );
  if (affectedRows(claimed) !== 1) return null;
  kit.log.info({ job, businessDay: slot.businessDay, runId, replica }, 'daily points job claimed');
  let result: unknown;
  try {
    result = job === DailyJob.POINTS_EXPIRY ? await runPointsExpiry(kit, now, EXPIRY_SCHEDULER) : await runExpiryReminders(kit, now);
  } catch (err) {
    // Give the claim back at once: the next tick (here or on another replica) tries again.
    await kit.ds.query('UPDATE points_job_run SET lease_until = ?, result = ? WHERE job = ? AND business_day = ? AND run_id = ?', [
      new Date(),
      `failed: ${(err as Error).message}`.slice(0, 1000),
      job,
      slot.businessDay,
      runId,
    ]);
    throw err;
  }
  await kit.ds.query('UPDATE points_job_run SET finished_at = ?, result = ? WHERE job = ? AND business_day = ? AND run_id = ?', [
    new Date(),
    JSON.stringify(result),
    job,
    slot.businessDay,
    runId,
  ]);
  return { job, businessDay: slot.businessDay, runId, result };
}
