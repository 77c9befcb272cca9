/**
 * Business days in a tenant time zone, on Intl alone (no time zone library). A day is written
 * `YYYY-MM-DD` (as in events' `businessDate`); instants stay `Date`s in UTC.
 */

/** A calendar date; `weekday` is ISO (1 = Monday ... 7 = Sunday). */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
  weekday: number;
}

const DAY_MS = 86_400_000;
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
// Building an Intl.DateTimeFormat costs far more than using one: keep one per zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

function wallClock(at: Date, timeZone: string) {
  const p: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(at)) if (part.type !== 'literal') p[part.type] = part.value;
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour),
    minute: Number(p.minute),
    second: Number(p.second),
    weekday: WEEKDAYS[p.weekday!]!,
  };
}

/** The calendar date instant `at` falls on in `timeZone`. */
export function localDate(at: Date, timeZone: string): LocalDate {
  const { year, month, day, weekday } = wallClock(at, timeZone);
  return { year, month, day, weekday };
}

/** `YYYY-MM-DD` of a calendar date. */
export function dayOf(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Year, month (1-12) and day of a `YYYY-MM-DD` day. */
export function partsOf(day: string): { year: number; month: number; day: number } {
  const [year, month, d] = day.split('-').map(Number) as [number, number, number];
  return { year, month, day: d };
}

/** True for a real calendar date written `YYYY-MM-DD`. */
export function isIsoDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** The business day (`YYYY-MM-DD` in `timeZone`) instant `at` falls on. */
export function businessDay(at: Date, timeZone: string): string {
  const { year, month, day } = wallClock(at, timeZone);
  return dayOf(year, month, day);
}

/** Milliseconds `timeZone` is ahead of UTC at instant `at`. */
function offsetMs(at: Date, timeZone: string): number {
  const p = wallClock(at, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - (at.getTime() - at.getUTCMilliseconds());
}

/** The instant local midnight starts `year-month-day` in `timeZone` (month and day may overflow: month 13 is next January). */
export function startOfLocalDay(year: number, month: number, day: number, timeZone: string): Date {
  const guess = Date.UTC(year, month - 1, day);
  // Two passes: the offset at the first estimate may differ across a DST change.
  const first = guess - offsetMs(new Date(guess), timeZone);
  return new Date(guess - offsetMs(new Date(first), timeZone));
}

/** The instant business day `day` (`YYYY-MM-DD`) starts in `timeZone`. */
export function startOfBusinessDay(day: string, timeZone: string): Date {
  const { year, month, day: d } = partsOf(day);
  return startOfLocalDay(year, month, d, timeZone);
}

/** `[start, end)` of the business day `at` falls on in `timeZone`. */
export function businessDayBoundsAt(at: Date, timeZone: string): { start: Date; end: Date } {
  const { year, month, day } = wallClock(at, timeZone);
  return { start: startOfLocalDay(year, month, day, timeZone), end: startOfLocalDay(year, month, day + 1, timeZone) };
}

/** `day` moved by `n` calendar days (negative: back). */
export function addDays(day: string, n: number): string {
  const { year, month, day: d } = partsOf(day);
  const at = new Date(Date.UTC(year, month - 1, d) + n * DAY_MS);
  return dayOf(at.getUTCFullYear(), at.getUTCMonth() + 1, at.getUTCDate());
}

/** Calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  const a = partsOf(from);
  const b = partsOf(to);
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / DAY_MS);
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days in `month` (1-12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
