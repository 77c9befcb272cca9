import { runClaimed, type ServiceKit } from '@membergraph/platform';
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
 * no replica has run it yet; null when there is nothing to do. The kit's `runClaimed` lets one
 * replica claim the day and another take over after DAILY_JOBS_LEASE_MINUTES. Even two runs at once
 * are harmless: the expiry run re-reads every member's lots under the account lock and the reminders
 * claim each (lot, threshold) once, so the second run only finds less to do.
 */
export async function runDailyJob(kit: ServiceKit<PointsConfig>, job: DailyJob, replica: string, now = new Date()): Promise<DailyJobRun | null> {
  const slot = dailySlot(now, kit.config.TENANT_TIME_ZONE, runAt(kit.config, job));
  if (!slot.due) return null;
  const run = await runClaimed(kit.ds, { job, runKey: slot.businessDay, replica, leaseMs: kit.config.DAILY_JOBS_LEASE_MINUTES * 60_000, now }, async (runId): Promise<unknown> => {
    kit.log.info({ job, businessDay: slot.businessDay, runId, replica }, 'daily points job claimed');
    return job === DailyJob.POINTS_EXPIRY ? runPointsExpiry(kit, now, EXPIRY_SCHEDULER) : runExpiryReminders(kit, now);
  });
  return run && { job, businessDay: slot.businessDay, runId: run.runId, result: run.result };
}
