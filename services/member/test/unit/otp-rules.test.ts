import { describe, expect, it } from 'vitest';
import { throttle, retryAfterSeconds } from '../../src/domain/throttle';
import { attemptAllowed, expiryOf, isOtpShaped, newOtpCode, DEFAULT_OTP_POLICY } from '../../src/domain/otp';
import { normalizeBirthday, normalizeEmail } from '../../src/domain/profile';
import { checkPassword, checkScopes, checkStaffRoles, checkUsername } from '../../src/domain/credentials';
import { maskEmail } from '../../src/domain/mask';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000);
const MIN = { limit: 1, windowMs: 60_000 };
const DAY = { limit: 10, windowMs: 86_400_000 };

describe('throttle', () => {
  it('allows the first event and refuses a second within the minute, saying when to retry', () => {
    expect(throttle([], [MIN, DAY], at(0))).toEqual({ allowed: true });
    expect(throttle([at(0)], [MIN, DAY], at(20))).toEqual({ allowed: false, retryAfterMs: 40_000 });
    expect(throttle([at(0)], [MIN, DAY], at(60))).toEqual({ allowed: true });
  });

  it('refuses the 11th send in a day until the oldest counted one leaves the window', () => {
    const ten = Array.from({ length: 10 }, (_, i) => at(i * 3600));
    const decision = throttle(ten, [MIN, DAY], at(10 * 3600));
    expect(decision).toEqual({ allowed: false, retryAfterMs: 86_400_000 - 10 * 3600_000 });
    expect(throttle(ten, [MIN, DAY], at(86_400 + 1))).toEqual({ allowed: true });
  });

  it('takes the longest wait when several windows are full and ignores events from the future', () => {
    const ten = Array.from({ length: 10 }, (_, i) => at(i));
    expect(throttle(ten, [MIN, DAY], at(10))).toEqual({ allowed: false, retryAfterMs: 86_400_000 - 10_000 });
    expect(throttle([at(100)], [MIN], at(0))).toEqual({ allowed: true });
  });

  it('rounds retry hints up to whole seconds, never 0', () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(40_001)).toBe(41);
  });
});

describe('one-time code rules', () => {
  const fresh = { expiresAt: expiryOf(at(0), DEFAULT_OTP_POLICY), attempts: 0, consumedAt: null };

  it('is valid for 5 minutes', () => {
    expect(fresh.expiresAt).toEqual(at(300));
    expect(attemptAllowed(fresh, at(299), DEFAULT_OTP_POLICY)).toEqual({ ok: true });
    expect(attemptAllowed(fresh, at(300), DEFAULT_OTP_POLICY)).toEqual({ ok: false, reason: 'EXPIRED' });
  });

  it('allows 5 tries (the right one included) and burns the code after 5 wrong ones', () => {
    expect(attemptAllowed({ ...fresh, attempts: 4 }, at(1), DEFAULT_OTP_POLICY)).toEqual({ ok: true });
    expect(attemptAllowed({ ...fresh, attempts: 5 }, at(1), DEFAULT_OTP_POLICY)).toEqual({ ok: false, reason: 'BURNED' });
  });

  it('is single use, and says so before anything else', () => {
    expect(attemptAllowed({ ...fresh, consumedAt: at(1), attempts: 9 }, at(999), DEFAULT_OTP_POLICY)).toEqual({ ok: false, reason: 'USED' });
    expect(attemptAllowed(null, at(0), DEFAULT_OTP_POLICY)).toEqual({ ok: false, reason: 'NO_CODE' });
  });

  it('makes 6-digit zero-padded codes from the whole range', () => {
    expect(newOtpCode(() => 42)).toBe('000042');
    expect(newOtpCode((max) => max - 1)).toBe('999999');
    expect(isOtpShaped('012345')).toBe(true);
    for (const bad of ['12345', '1234567', '12345a', ' 123456']) expect(isOtpShaped(bad)).toBe(false);
  });
});

describe('profile and credential checks', () => {
  it('normalises emails and birthdays, refusing impossible ones', () => {
    expect(normalizeEmail(' Li.Lei@Example.COM ')).toBe('li.lei@example.com');
    expect(normalizeEmail('not-an-email')).toBeNull();
    expect(normalizeBirthday('1990-02-28', at(0))).toBe('1990-02-28');
    for (const bad of ['1990-02-30', '1899-12-31', '2027-01-01', '90-1-1']) expect(normalizeBirthday(bad, at(0))).toBeNull();
    expect(maskEmail('lilei@example.com')).toBe('l****@example.com');
  });

  it('asks 10+ character passwords, staff roles without MEMBER, and resource:action scopes', () => {
    expect(checkPassword('123456789')?.field).toBe('password');
    expect(checkPassword('1234567890')).toBeNull();
    expect(checkStaffRoles(['OPERATOR', 'MEMBER'])?.field).toBe('roles');
    expect(checkStaffRoles([])?.field).toBe('roles');
    expect(checkStaffRoles(['ADMIN', 'FINANCE'])).toBeNull();
    expect(checkUsername('Bad Name')?.field).toBe('username');
    expect(checkScopes(['orders:write', 'members:read'])).toBeNull();
    expect(checkScopes(['orders'])?.field).toBe('scopes');
  });
});
