import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CouponStatus, couponExpiresAt, effectiveStatus, registrationIssueKey } from '../../src/domain/coupon';

describe('couponExpiresAt', () => {
  it('ends validDays whole days after issue', () => {
    const issued = new Date('2026-01-31T15:30:00.123Z');
    expect(couponExpiresAt(issued, 30).toISOString()).toBe('2026-03-02T15:30:00.123Z');
    expect(couponExpiresAt(issued, 1).toISOString()).toBe('2026-02-01T15:30:00.123Z');
  });

  it('crosses leap days and year ends by elapsed time, not calendar arithmetic', () => {
    expect(couponExpiresAt(new Date('2028-02-28T00:00:00Z'), 2).toISOString()).toBe('2028-03-01T00:00:00.000Z');
    expect(couponExpiresAt(new Date('2026-12-31T23:00:00Z'), 3650).toISOString()).toBe('2036-12-28T23:00:00.000Z');
  });

  it('is always later than the issue, by exactly the validity', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), fc.integer({ min: 1, max: 3650 }), (issued, days) => {
        expect(couponExpiresAt(issued, days).getTime() - issued.getTime()).toBe(days * 86_400_000);
      }),
    );
  });

  it('refuses a validity that is not a positive whole number of days', () => {
    for (const days of [0, -1, 1.5, Number.NaN]) expect(() => couponExpiresAt(new Date(), days)).toThrow(RangeError);
  });
});

describe('effectiveStatus', () => {
  const now = new Date('2026-05-01T00:00:00Z');
  const at = (iso: string) => new Date(iso);

  it('shows an ISSUED coupon past its expiry as EXPIRED, from the expiry instant on', () => {
    expect(effectiveStatus({ status: CouponStatus.ISSUED, expiresAt: at('2026-05-01T00:00:00.001Z') }, now)).toBe('ISSUED');
    expect(effectiveStatus({ status: CouponStatus.ISSUED, expiresAt: now }, now)).toBe('EXPIRED');
  });

  it('leaves every other status alone, even after the expiry', () => {
    for (const status of [CouponStatus.LOCKED, CouponStatus.REDEEMED, CouponStatus.VOID, CouponStatus.EXPIRED]) {
      expect(effectiveStatus({ status, expiresAt: at('2020-01-01T00:00:00Z') }, now)).toBe(status);
    }
  });
});

describe('registrationIssueKey', () => {
  it('names one coupon per member and template', () => {
    expect(registrationIssueKey('M1', 'T1')).toBe('registration:M1:T1');
    expect(registrationIssueKey('M1', 'T2')).not.toBe(registrationIssueKey('M1', 'T1'));
  });
});
