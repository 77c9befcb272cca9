import { EntitySchema, type DataSource } from 'typeorm';
import { affectedRows } from './db';
import { newId } from './ids';

/**
 * One run of a scheduled job (a business day's expiry, a backfill done once...): the replica that
 * claims the row runs it; `leaseUntil` lets another replica take over a run whose replica died
 * before `finishedAt` was written. List it in the service's entities and create the table in a
 * migration (`npm run migration:generate` writes it), as with `idempotency_key`.
 */
export interface JobRunRow {
  job: string;
  /** Which run of the job: a business day `YYYY-MM-DD`, or a fixed key for one-off work. */
  runKey: string;
  /** This claim's id (a takeover gets a new one). */
  runId: string;
  /** The replica (process) that claimed it. */
  claimedBy: string;
  leaseUntil: Date;
  /** Claims so far: more than 1 after a takeover or a failed attempt. */
  attempts: number;
  startedAt: Date;
  finishedAt: Date | null;
  /** JSON of what the job reported; the error message of a failed attempt. */
  result: string | null;
}

export const JobRunEntity = new EntitySchema<JobRunRow>({
  name: 'JobRun',
  tableName: 'job_run',
  columns: {
    job: { type: 'varchar', length: 40, primary: true },
    runKey: { name: 'run_key', type: 'varchar', length: 32, primary: true },
    runId: { name: 'run_id', type: 'varchar', length: 26 },
    claimedBy: { name: 'claimed_by', type: 'varchar', length: 64 },
    leaseUntil: { name: 'lease_until', type: 'datetime', precision: 3 },
    attempts: { type: 'int' },
    startedAt: { name: 'started_at', type: 'datetime', precision: 3 },
    finishedAt: { name: 'finished_at', type: 'datetime', precision: 3, nullable: true },
    result: { type: 'text', nullable: true },
  },
});

export interface ClaimedRun {
  job: string;
  runKey: string;
  /** Who runs it, for the record (host + pid, say). */
  replica: string;
  /** How long a claim stands before another replica may take the run over. */
  leaseMs: number;
  now?: Date;
}

/**
 * Runs `work` once for (job, runKey) across replicas: null when the run has finished or another
 * replica holds an unexpired claim. A failed run gives its claim back at once (the next check, here
 * or elsewhere, retries) and rethrows. A run taken over after its lease lapsed may overlap a slow
 * first run, so jobs must stay idempotent; the claim only keeps replicas from routinely doubling work.
 */
export async function runClaimed<T>(ds: DataSource, run: ClaimedRun, work: (runId: string) => Promise<T>): Promise<{ runId: string; result: T } | null> {
  const now = run.now ?? new Date();
  // The common case on every check after the run: one primary-key read.
  const [seen] = (await ds.query('SELECT finished_at, lease_until FROM job_run WHERE job = ? AND run_key = ?', [run.job, run.runKey])) as Array<{
    finished_at: Date | null;
    lease_until: Date;
  }>;
  if (seen && (seen.finished_at || new Date(seen.lease_until) > now)) return null;
  const runId = newId();
  const leaseUntil = new Date(now.getTime() + run.leaseMs);
  const claimed = seen
    ? await ds.query(
        `UPDATE job_run SET run_id = ?, claimed_by = ?, lease_until = ?, attempts = attempts + 1, started_at = ?
          WHERE job = ? AND run_key = ? AND finished_at IS NULL AND lease_until <= ?`,
        [runId, run.replica, leaseUntil, now, run.job, run.runKey, now],
      )
    : await ds.query(
        `INSERT IGNORE INTO job_run (job, run_key, run_id, claimed_by, lease_until, attempts, started_at, finished_at, result)
         VALUES (?, ?, ?, ?, ?, 1, ?, NULL, NULL)`,
        [run.job, run.runKey, runId, run.replica, leaseUntil, now],
      );
  if (affectedRows(claimed) !== 1) return null;
  let result: T;
  try {
    result = await work(runId);
  } catch (err) {
    await ds.query('UPDATE job_run SET lease_until = ?, result = ? WHERE job = ? AND run_key = ? AND run_id = ?', [
      new Date(),
      `failed: ${(err as Error).message}`.slice(0, 1000),
      run.job,
      run.runKey,
      runId,
    ]);
    throw err;
  }
  await ds.query('UPDATE job_run SET finished_at = ?, result = ? WHERE job = ? AND run_key = ? AND run_id = ?', [
    new Date(),
    JSON.stringify(result ?? null),
    run.job,
    run.runKey,
    runId,
  ]);
  return { runId, result };
}
