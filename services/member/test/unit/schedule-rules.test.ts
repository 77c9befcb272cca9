import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addDays, businessDay, dayOf, daysBetween, isLeapYear, isValidTimeZone, startOfBusinessDay } from '@membergraph/platform';
import { currentEvaluationDay, daysToCover, inWarningWindow, isEvaluationDay, nextEvaluationDay, EVALUATION_PERIODS } from '../../src/domain/evaluation-schedule';
import { birthMonthDay, birthMonthOf, birthdayNotice, birthdaysCelebratedOn } from '../../src/domain/birthday';

/** Any calendar day from 1950 to 2100. */
const anyDay = fc.integer({ min: Date.UTC(1950, 0, 1) / 86_400_000, max: Date.UTC(2100, 11, 31) / 86_400_000 }).map((n) => {
  const d = new Date(n * 86_400_000);
  return dayOf(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
});
const period = fc.constantFrom(...EVALUATION_PERIODS);
const zone = fc.constantFrom('Asia/Shanghai', 'UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Pacific/Kiritimati');

describe('business days', () => {
  it('reads an instant as the calendar day of the tenant time zone', () => {
    // 20:00 UTC on 7 June is 04:00 on 8 June in Shanghai.
    expect(businessDay(new Date('2026-06-07T20:00:00Z'), 'Asia/Shanghai')).toBe('2026-06-08');
    expect(businessDay(new Date('2026-06-07T20:00:00Z'), 'UTC')).toBe('2026-06-07');
    expect(startOfBusinessDay('2026-04-01', 'Asia/Shanghai').toISOString()).toBe('2026-03-31T16:00:00.000Z');
    expect(isValidTimeZone('Asia/Shanghai')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });

  it('starts every business day at an instant that belongs to that day, also across DST changes', () => {
    fc.assert(
      fc.property(anyDay, zone, (day, tz) => {
        const start = startOfBusinessDay(day, tz);
        expect(businessDay(start, tz)).toBe(day);
        // One millisecond earlier is the day before.
        expect(businessDay(new Date(start.getTime() - 1), tz)).toBe(addDays(day, -1));
      }),
    );
  });

  it('adds and counts calendar days consistently', () => {
    fc.assert(
      fc.property(anyDay, fc.integer({ min: -800, max: 800 }), (day, n) => {
        expect(daysBetween(day, addDays(day, n))).toBe(n);
      }),
    );
    expect(addDays('2027-02-28', 1)).toBe('2027-03-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-12-28', 7)).toBe('2027-01-04');
  });
});

describe('tier evaluation dates', () => {
  it('evaluates quarterly by default on 1 January, April, July and October', () => {
    const days = Array.from({ length: 365 }, (_, i) => addDays('2027-01-01', i)).filter((d) => isEvaluationDay(d, 3));
    expect(days).toEqual(['2027-01-01', '2027-04-01', '2027-07-01', '2027-10-01']);
    expect(nextEvaluationDay('2026-12-07', 3)).toBe('2027-01-01');
    expect(nextEvaluationDay('2027-01-01', 3)).toBe('2027-04-01');
    expect(nextEvaluationDay('2027-03-31', 3)).toBe('2027-04-01');
    expect(nextEvaluationDay('2027-05-10', 12)).toBe('2028-01-01');
    expect(currentEvaluationDay('2027-05-10', 3)).toBe('2027-04-01');
  });

  it('puts the next evaluation day strictly after the day, within one period, with none in between', () => {
    fc.assert(
      fc.property(anyDay, period, (day, months) => {
        const next = nextEvaluationDay(day, months);
        expect(isEvaluationDay(next, months)).toBe(true);
        const ahead = daysBetween(day, next);
        expect(ahead).toBeGreaterThanOrEqual(1);
        expect(ahead).toBeLessThanOrEqual(months * 31);
        for (let i = 1; i < ahead; i++) expect(isEvaluationDay(addDays(day, i), months)).toBe(false);
        const current = currentEvaluationDay(day, months);
        expect(isEvaluationDay(current, months)).toBe(true);
        expect(daysBetween(current, day)).toBeGreaterThanOrEqual(0);
        expect(nextEvaluationDay(current, months)).toBe(next);
      }),
    );
  });

  it('warns in the 30 days before an evaluation, not on its day nor before the window', () => {
    expect(inWarningWindow('2027-03-02', '2027-04-01', 30)).toBe(true);
    expect(inWarningWindow('2027-03-31', '2027-04-01', 30)).toBe(true);
    expect(inWarningWindow('2027-03-01', '2027-04-01', 30)).toBe(false);
    expect(inWarningWindow('2027-04-01', '2027-04-01', 30)).toBe(false);
  });

  it('has the scheduler cover the missed days, oldest first, then today', () => {
    expect(daysToCover('2027-01-02', 3)).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
    expect(daysToCover('2027-01-02', 0)).toEqual(['2027-01-02']);
  });
});

describe('birthdays', () => {
  it('keeps the month and day of a birthday, and its month', () => {
    expect(birthMonthDay('1990-06-15')).toBe('0615');
    expect(birthMonthDay(null)).toBeNull();
    expect(birthMonthOf('0615')).toBe(6);
    expect(birthMonthOf('1231')).toBe(12);
    expect(birthMonthOf(null)).toBeNull();
  });

  it('announces the birthday 7 days after the business day, in the year of the birthday', () => {
    expect(birthdayNotice('2026-06-08', 7)).toEqual({ businessDate: '2026-06-08', birthdayDate: '2026-06-15', year: 2026, daysAhead: 7, monthDays: ['0615'] });
    // Late December announces the first days of January of the next year.
    expect(birthdayNotice('2026-12-28', 7)).toMatchObject({ birthdayDate: '2027-01-04', year: 2027, monthDays: ['0104'] });
  });

  it('celebrates 29 February on 28 February in years without one', () => {
    expect(birthdaysCelebratedOn('2027-02-28')).toEqual(['0228', '0229']);
    expect(birthdaysCelebratedOn('2028-02-28')).toEqual(['0228']);
    expect(birthdaysCelebratedOn('2028-02-29')).toEqual(['0229']);
    expect(birthdaysCelebratedOn('2100-02-28')).toEqual(['0228', '0229']);
  });

  it('announces every birthday exactly once a year, whatever the year and the notice period', () => {
    const birthdays = fc.integer({ min: 0, max: 365 }).map((n) => {
      // Any month-day, 29 February included (2000 is a leap year).
      const d = new Date(Date.UTC(2000, 0, 1) + n * 86_400_000);
      return dayOf(2000, d.getUTCMonth() + 1, d.getUTCDate());
    });
    fc.assert(
      fc.property(birthdays, fc.integer({ min: 1951, max: 2099 }), fc.integer({ min: 0, max: 60 }), (birthday, year, daysAhead) => {
        const md = birthMonthDay(birthday)!;
        const days = isLeapYear(year) ? 366 : 365;
        // Every business day whose notice is about a birthday in `year`.
        const runs = Array.from({ length: days }, (_, i) => addDays(dayOf(year, 1, 1), i - daysAhead)).map((d) => birthdayNotice(d, daysAhead));
        const hits = runs.filter((n) => n.year === year && n.monthDays.includes(md));
        expect(hits).toHaveLength(1);
        expect(birthMonthOf(md)).toBe(Number(hits[0]!.birthdayDate.slice(5, 7)));
      }),
      { numRuns: 200 },
    );
  });
});
