import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dailySlot, parseTimeOfDay } from '../../src/domain/schedule';

const TZ = 'Asia/Shanghai';

describe('parseTimeOfDay', () => {
  it('reads HH:MM as minutes after midnight', () => {
    expect(parseTimeOfDay('00:00')).toBe(0);
    expect(parseTimeOfDay('00:05')).toBe(5);
    expect(parseTimeOfDay('23:59')).toBe(23 * 60 + 59);
  });

  it('refuses anything else', () => {
    for (const bad of ['24:00', '7:00', '12:60', '12-00', '', ' 10:00']) expect(() => parseTimeOfDay(bad)).toThrow(RangeError);
  });
});

describe('dailySlot', () => {
  it('is due from the configured local time until the business day ends', () => {
    // 00:05 in Shanghai on 2026-03-28 is 16:05 UTC on the 27th.
    expect(dailySlot(new Date('2026-03-27T16:04:59Z'), TZ, 5)).toEqual({ businessDay: '2026-03-28', dueAt: new Date('2026-03-27T16:05:00Z'), due: false });
    expect(dailySlot(new Date('2026-03-27T16:05:00Z'), TZ, 5)).toMatchObject({ businessDay: '2026-03-28', due: true });
    expect(dailySlot(new Date('2026-03-28T15:59:59Z'), TZ, 5)).toMatchObject({ businessDay: '2026-03-28', due: true });
    // A minute later it is the 29th, before its own run time.
    expect(dailySlot(new Date('2026-03-28T16:00:00Z'), TZ, 5)).toMatchObject({ businessDay: '2026-03-29', due: false });
  });

  it('follows the tenant time zone, not UTC', () => {
    expect(dailySlot(new Date('2026-03-28T09:00:00Z'), 'UTC', 600)).toMatchObject({ businessDay: '2026-03-28', due: false });
    expect(dailySlot(new Date('2026-03-28T09:00:00Z'), TZ, 600)).toMatchObject({ businessDay: '2026-03-28', due: true });
  });

  it('keeps a late run time inside a 23-hour day (DST starts)', () => {
    // New York skipped 02:00-03:00 on 2026-03-08: 23:59 local is 03:59 UTC on the 9th.
    const slot = dailySlot(new Date('2026-03-08T12:00:00Z'), 'America/New_York', 23 * 60 + 59);
    expect(slot.businessDay).toBe('2026-03-08');
    expect(dailySlot(slot.dueAt, 'America/New_York', 23 * 60 + 59).businessDay).toBe('2026-03-08');
  });

  it('puts the due instant on the business day it names', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2020-01-01Z'), max: new Date('2040-01-01Z'), noInvalidDate: true }), fc.integer({ min: 0, max: 1439 }), fc.constantFrom(TZ, 'UTC', 'Europe/Berlin', 'America/New_York'), (now, minutes, tz) => {
        const slot = dailySlot(now, tz, minutes);
        expect(slot.due).toBe(now >= slot.dueAt);
        // Across a DST change the local clock may skip the minute; the instant stays within that day.
        expect(dailySlot(slot.dueAt, tz, minutes).businessDay).toBe(slot.businessDay);
      }),
    );
  });
});
