import { EntitySchema } from 'typeorm';

/**
 * One scheduled daily job (points expiry, expiry reminders) per tenant business day: the replica
 * that inserts the row runs it; `leaseUntil` lets another replica take over a run whose replica died
 * before `finishedAt` was written (the jobs are idempotent, so a second run only finds less to do).
 */
export interface PointsJobRunRow {
  /** POINTS_EXPIRY or EXPIRY_REMINDERS. */
  job: string;
  /** YYYY-MM-DD in TENANT_TIME_ZONE. */
  businessDay: string;
  /** This claim's id (a takeover gets a new one). */
  runId: string;
  /** The replica (process) that claimed it. */
  claimedBy: string;
  leaseUntil: Date;
  /** Claims so far: more than 1 after a takeover or a failed attempt. */
  attempts: number;
  startedAt: Date;
  finishedAt: Date | null;
  /** JSON of what the job reported (its run id and counts); the error message of a failed attempt. */
  result: string | null;
}

export const PointsJobRunEntity = new EntitySchema<PointsJobRunRow>({
  name: 'PointsJobRun',
  tableName: 'points_job_run',
  columns: {
    job: { type: 'varchar', length: 32, primary: true },
    businessDay: { name: 'business_day', type: 'char', length: 10, primary: true },
    runId: { name: 'run_id', type: 'varchar', length: 26 },
    claimedBy: { name: 'claimed_by', type: 'varchar', length: 64 },
    leaseUntil: { name: 'lease_until', type: 'datetime', precision: 3 },
    attempts: { type: 'int' },
    startedAt: { name: 'started_at', type: 'datetime', precision: 3 },
    finishedAt: { name: 'finished_at', type: 'datetime', precision: 3, nullable: true },
    result: { type: 'text', nullable: true },
  },
});
