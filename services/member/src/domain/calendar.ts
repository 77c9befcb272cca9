/**
 * Business days in the tenant time zone, on Intl alone (no time zone library). A day is written
 * `YYYY-MM-DD`, as the `businessDate` of events. (points has the same helpers in its own
 * domain/time.ts; a shared copy in packages/ is a kit wish.)
 */

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

function parts(at: Date, timeZone: string) {
  const out: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(at)) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out as { year: number; month: number; day: number; hour: number; minute: number; second: number };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYY-MM-DD` of a calendar date. */
export function dayOf(year: number, month: number, day: number): string {
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** Year, month (1-12) and day of a `YYYY-MM-DD` day. */
export function partsOf(day: string): { year: number; month: number; day: number } {
  const [year, month, d] = day.split('-').map(Number) as [number, number, number];
  return { year, month, day: d };
}

/** The business day (calendar date in `timeZone`) instant `at` falls on. */
export function businessDay(at: Date, timeZone: string): string {
  const p = parts(at, timeZone);
  return dayOf(p.year, p.month, p.day);
}

/** Milliseconds `timeZone` is ahead of UTC at instant `at`. */
function offsetMs(at: Date, timeZone: string): number {
  const p = parts(at, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - (at.getTime() - at.getUTCMilliseconds());
}

/** The instant business day `day` starts: local midnight in `timeZone`. */
export function startOfBusinessDay(day: string, timeZone: string): Date {
  const { year, month, day: d } = partsOf(day);
  const guess = Date.UTC(year, month - 1, d);
  // Two passes: the offset at the first estimate may differ across a DST change.
  const first = guess - offsetMs(new Date(guess), timeZone);
  return new Date(guess - offsetMs(new Date(first), timeZone));
}

const DAY_MS = 86_400_000;

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
