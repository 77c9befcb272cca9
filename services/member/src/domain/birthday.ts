import { addDays, isLeapYear, partsOf } from '@membergraph/platform';

/**
 * The month and day of a birthday (`YYYY-MM-DD`) as `MMDD`: the plain, indexed `birth_md` column
 * that lets the daily job find whose birthday is coming without decrypting every member. Null when
 * there is no birthday.
 */
export function birthMonthDay(birthday: string | null | undefined): string | null {
  if (!birthday) return null;
  const m = /^\d{4}-(\d{2})-(\d{2})$/.exec(birthday);
  return m ? `${m[1]}${m[2]}` : null;
}

/** The month (1-12) of a `MMDD` birth month-day, or null. */
export function birthMonthOf(monthDay: string | null | undefined): number | null {
  if (!monthDay || !/^\d{4}$/.test(monthDay)) return null;
  const month = Number(monthDay.slice(0, 2));
  return month >= 1 && month <= 12 ? month : null;
}

/**
 * The birth month-days celebrated on `day`: its own, and on 28 February of a year without a
 * 29 February also 0229 (members born on a leap day celebrate on the last day of February, so the
 * birthday stays in their birth month and comes once a year).
 */
export function birthdaysCelebratedOn(day: string): string[] {
  const { year, month, day: d } = partsOf(day);
  const own = `${String(month).padStart(2, '0')}${String(d).padStart(2, '0')}`;
  return month === 2 && d === 28 && !isLeapYear(year) ? [own, '0229'] : [own];
}

/** What the birthday job of business day `businessDate` looks for. */
export interface BirthdayNotice {
  businessDate: string;
  /** The day whose birthdays are announced: `daysAhead` days after `businessDate`. */
  birthdayDate: string;
  /** Year of `birthdayDate`: each member hears once per year (a late-December run announces January birthdays of the next). */
  year: number;
  daysAhead: number;
  /** `birth_md` values to match. */
  monthDays: string[];
}

/** The birthday notice of business day `businessDate`, `daysAhead` days ahead. */
export function birthdayNotice(businessDate: string, daysAhead: number): BirthdayNotice {
  const birthdayDate = addDays(businessDate, daysAhead);
  return { businessDate, birthdayDate, year: partsOf(birthdayDate).year, daysAhead, monthDays: birthdaysCelebratedOn(birthdayDate) };
}
