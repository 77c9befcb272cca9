import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { expiryFor, lotExpiry } from '../../src/domain/expiry';
import { localDate, startOfLocalDay } from '@membergraph/platform';

const rolling = { kind: 'ROLLING_MONTHS', months: 12 } as const;
const endOfNextYear = { kind: 'END_OF_NEXT_YEAR', timeZone: 'Asia/Shanghai' } as const;

describe('expiryFor', () => {
  it('expires 12 months after the earning by default, to the millisecond', () => {
    expect(expiryFor(new Date('2026-03-15T10:20:30.400Z'), rolling).toISOString()).toBe('2027-03-15T10:20:30.400Z');
  });

  it('clamps to the end of a shorter month', () => {
    expect(expiryFor(new Date('2026-01-31T08:00:00Z'), { kind: 'ROLLING_MONTHS', months: 1 }).toISOString()).toBe('2026-02-28T08:00:00.000Z');
    expect(expiryFor(new Date('2024-02-29T08:00:00Z'), rolling).toISOString()).toBe('2025-02-28T08:00:00.000Z');
  });

  it('expires at the end of the following year in the tenant time zone', () => {
    // 2026-06-01 local -> midnight starting 2028-01-01 in Shanghai (UTC+8).
    expect(expiryFor(new Date('2026-06-01T00:00:00Z'), endOfNextYear).toISOString()).toBe('2027-12-31T16:00:00.000Z');
    // 2026-12-31T20:00Z is already 2027-01-01 04:00 in Shanghai: earned in 2027, expires end of 2028.
    expect(expiryFor(new Date('2026-12-31T20:00:00Z'), endOfNextYear).toISOString()).toBe('2028-12-31T16:00:00.000Z');
  });

  it('always lies after the earning, and within one more month than the policy says', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01Z'), max: new Date('2090-01-01Z'), noInvalidDate: true }), fc.integer({ min: 1, max: 36 }), (at, months) => {
        const exp = expiryFor(at, { kind: 'ROLLING_MONTHS', months });
        expect(exp.getTime()).toBeGreaterThan(at.getTime());
        expect(exp.getTime() - at.getTime()).toBeLessThanOrEqual((months + 1) * 31 * 86_400_000);
        const eoy = expiryFor(at, endOfNextYear);
        expect(eoy.getTime()).toBeGreaterThan(at.getTime() + 365 * 86_400_000);
        expect(localDate(eoy, 'Asia/Shanghai')).toMatchObject({ month: 1, day: 1 });
      }),
    );
  });
});

describe('tenant time zone', () => {
  it('reads the local day and weekday', () => {
    // 2026-03-27T17:00Z is Saturday 28 March 01:00 in Shanghai.
    expect(localDate(new Date('2026-03-27T17:00:00Z'), 'Asia/Shanghai')).toEqual({ year: 2026, month: 3, day: 28, weekday: 6 });
  });

  it('finds local midnight across a DST change', () => {
    expect(startOfLocalDay(2026, 3, 29, 'Europe/Berlin').toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(startOfLocalDay(2026, 3, 30, 'Europe/Berlin').toISOString()).toBe('2026-03-29T22:00:00.000Z');
  });
});

describe('lotExpiry', () => {
  const earned = new Date('2026-03-28T04:00:00Z');

  it('is the policy expiry when the earning sets no limit', () => {
    expect(lotExpiry(earned, rolling)).toEqual(expiryFor(earned, rolling));
    expect(lotExpiry(earned, rolling, null)).toEqual(new Date('2027-03-28T04:00:00Z'));
  });

  it('is the earlier of the policy expiry and the promotion\'s days', () => {
    expect(lotExpiry(earned, rolling, 30)).toEqual(new Date('2026-04-27T04:00:00Z'));
    // A promotion longer than the policy changes nothing.
    expect(lotExpiry(earned, rolling, 1000)).toEqual(new Date('2027-03-28T04:00:00Z'));
    expect(lotExpiry(earned, { kind: 'END_OF_NEXT_YEAR', timeZone: 'Asia/Shanghai' }, 3650)).toEqual(new Date('2027-12-31T16:00:00Z'));
  });

  it('never outlives the policy, whatever the days', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2020-01-01Z'), max: new Date('2040-01-01Z'), noInvalidDate: true }), fc.integer({ min: 1, max: 3650 }), (at, days) => {
        const expires = lotExpiry(at, rolling, days);
        expect(expires.getTime()).toBeLessThanOrEqual(expiryFor(at, rolling).getTime());
        expect(expires.getTime()).toBeLessThanOrEqual(at.getTime() + days * 86_400_000);
        expect(expires.getTime()).toBeGreaterThan(at.getTime());
      }),
    );
  });

  it('refuses a limit that is not a positive whole number of days', () => {
    expect(() => lotExpiry(earned, rolling, 0)).toThrow(RangeError);
    expect(() => lotExpiry(earned, rolling, 1.5)).toThrow(RangeError);
  });
});
