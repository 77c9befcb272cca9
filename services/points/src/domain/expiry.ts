import { daysInMonth, localDate, startOfLocalDay } from '@membergraph/platform';

/**
 * When a lot of earned points expires: a rolling number of months after the earning, or at the
 * end of the calendar year after the one it was earned in (in the tenant time zone).
 */
export type ExpiryPolicy =
  | { kind: 'ROLLING_MONTHS'; months: number }
  | { kind: 'END_OF_NEXT_YEAR'; timeZone: string };

/**
 * The instant a lot earned at `earnedAt` expires; the points are spendable strictly before it.
 * Rolling months keep the time of day and clamp the day to the target month (31 Jan + 1 month =
 * 28/29 Feb). End of next year is local midnight of 1 January two years on: 2026 -> 2028-01-01T00:00 local.
 */
export function expiryFor(earnedAt: Date, policy: ExpiryPolicy): Date {
  if (Number.isNaN(earnedAt.getTime())) throw new RangeError('earnedAt is not a valid date');
  if (policy.kind === 'END_OF_NEXT_YEAR') {
    const { year } = localDate(earnedAt, policy.timeZone);
    return startOfLocalDay(year + 2, 1, 1, policy.timeZone);
  }
  if (!Number.isInteger(policy.months) || policy.months < 1) throw new RangeError(`months must be a positive whole number, got ${policy.months}`);
  const monthIndex = earnedAt.getUTCMonth() + policy.months;
  const year = earnedAt.getUTCFullYear() + Math.floor(monthIndex / 12);
  const month = (monthIndex % 12) + 1;
  const day = Math.min(earnedAt.getUTCDate(), daysInMonth(year, month));
  return new Date(
    Date.UTC(year, month - 1, day, earnedAt.getUTCHours(), earnedAt.getUTCMinutes(), earnedAt.getUTCSeconds(), earnedAt.getUTCMilliseconds()),
  );
}

const DAY_MS = 86_400_000;

/**
 * The expiry of a lot earned at `earnedAt` whose earning (a promotion) allows at most `maxDays`
 * days: the earlier of the policy's date and `maxDays` x 24 h after earning. Null = the policy alone.
 */
export function lotExpiry(earnedAt: Date, policy: ExpiryPolicy, maxDays?: number | null): Date {
  const byPolicy = expiryFor(earnedAt, policy);
  if (maxDays == null) return byPolicy;
  if (!Number.isInteger(maxDays) || maxDays < 1) throw new RangeError(`maxDays must be a positive whole number, got ${maxDays}`);
  const byDays = new Date(earnedAt.getTime() + maxDays * DAY_MS);
  return byDays < byPolicy ? byDays : byPolicy;
}
