import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addDays,
  businessDay,
  businessDayBoundsAt,
  daysBetween,
  daysInMonth,
  isIsoDate,
  isValidTimeZone,
  localDate,
  startOfBusinessDay,
} from '../src/calendar';

describe('business days in a tenant time zone', () => {
  it('puts an instant on the calendar date of the zone, not of UTC', () => {
    const at = new Date('2026-03-31T16:30:00Z'); // 00:30 on 1 April in Shanghai
    expect(businessDay(at, 'Asia/Shanghai')).toBe('2026-04-01');
    expect(businessDay(at, 'UTC')).toBe('2026-03-31');
    expect(localDate(at, 'Asia/Shanghai')).toEqual({ year: 2026, month: 4, day: 1, weekday: 3 });
  });

  it('starts a business day at local midnight, also on the days a DST zone changes its clocks', () => {
    expect(startOfBusinessDay('2026-04-01', 'Asia/Shanghai').toISOString()).toBe('2026-03-31T16:00:00.000Z');
    expect(startOfBusinessDay('2026-03-29', 'Europe/Berlin').toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(startOfBusinessDay('2026-03-30', 'Europe/Berlin').toISOString()).toBe('2026-03-29T22:00:00.000Z');
    const { start, end } = businessDayBoundsAt(new Date('2026-03-29T12:00:00Z'), 'Europe/Berlin');
    expect(end.getTime() - start.getTime()).toBe(23 * 3_600_000);
  });

  it('maps every instant into the bounds of its own business day', () => {
    const zones = ['Asia/Shanghai', 'Europe/Berlin', 'America/New_York', 'UTC', 'Asia/Kolkata'];
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }), fc.constantFrom(...zones), (t, tz) => {
        const at = new Date(t);
        const { start, end } = businessDayBoundsAt(at, tz);
        expect(start.getTime()).toBeLessThanOrEqual(t);
        expect(end.getTime()).toBeGreaterThan(t);
        expect(startOfBusinessDay(businessDay(at, tz), tz)).toEqual(start);
      }),
    );
  });

  it('does calendar arithmetic on YYYY-MM-DD days', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2027-03-01', -1)).toBe('2027-02-28');
    expect(daysBetween('2026-12-31', '2027-01-07')).toBe(7);
    expect(daysInMonth(2028, 2)).toBe(29);
    expect(isIsoDate('2027-02-29')).toBe(false);
    expect(isIsoDate('2028-02-29')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});
