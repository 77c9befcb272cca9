import { EntitySchema } from 'typeorm';

/**
 * What the scheduler has finished: one row per job and business day (`run_key`, YYYY-MM-DD), or
 * `once` for one-off work such as the birth_md backfill. Written after the job completed, so a
 * crash half-way leaves the day to the next check; replicas may both run a day (the jobs' own
 * claims make that harmless), this only stops the checks after it is done.
 */
export interface JobRunRow {
  job: string;
  runKey: string;
  finishedAt: Date;
  /** The job's counts, as JSON. */
  summary: string | null;
}

export const JobRunEntity = new EntitySchema<JobRunRow>({
  name: 'JobRun',
  tableName: 'job_run',
  columns: {
    job: { type: 'varchar', length: 40, primary: true },
    runKey: { name: 'run_key', type: 'varchar', length: 16, primary: true },
    finishedAt: { name: 'finished_at', type: 'datetime', precision: 3 },
    summary: { type: 'text', nullable: true },
  },
});
