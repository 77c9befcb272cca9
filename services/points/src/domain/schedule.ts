import { businessDay, businessDayBoundsAt } from '@membergraph/platform';

/** `HH:MM` (24 h) as minutes after local midnight; throws on anything else. */
export function parseTimeOfDay(value: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!m) throw new RangeError(`must be a time of day written HH:MM (00:00-23:59), got "${value}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** A daily job's slot on the business day of some instant. */
export interface DailySlot {
  /** The tenant business day, YYYY-MM-DD: a job runs once per day. */
  businessDay: string;
  /** When the day's run is due: local midnight + the configured time of day. */
  dueAt: Date;
  /** True once `now` has reached `dueAt`: the day's run may start. */
  due: boolean;
}

/**
 * The slot of a job that runs once per business day at `minutesAfterMidnight` local time. A replica
 * that starts after the time (or was down at it) still finds the day's run due until the day ends,
 * so a day is never skipped while some replica runs.
 */
export function dailySlot(now: Date, timeZone: string, minutesAfterMidnight: number): DailySlot {
  // The kit's tenant calendar: the same business days as every other service's jobs.
  const { start, end } = businessDayBoundsAt(now, timeZone);
  // A 23-hour day (DST starts) could push a late time into tomorrow: keep it inside today.
  const dueAt = new Date(Math.min(start.getTime() + minutesAfterMidnight * 60_000, end.getTime() - 60_000));
  return { businessDay: businessDay(now, timeZone), dueAt, due: now.getTime() >= dueAt.getTime() };
}
