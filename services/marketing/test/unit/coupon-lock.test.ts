import { describe, expect, it } from 'vitest';
import { CouponStatus } from '../../src/domain/coupon';
import { CouponUseStatus, decideCouponStep, lockExpired, type CouponState, type CouponStep } from '../../src/domain/coupon-lock';

const now = new Date('2026-05-01T12:00:00Z');
const TTL = 900;
const future = new Date('2026-06-01T00:00:00Z');
const issued: CouponState = { status: CouponStatus.ISSUED, expiresAt: future, paymentId: null, lockedAt: null };
const lockedBy = (paymentId: string, secondsAgo: number): CouponState => ({
  status: CouponStatus.LOCKED,
  expiresAt: future,
  paymentId,
  lockedAt: new Date(now.getTime() - secondsAgo * 1000),
});

describe('lockExpired', () => {
  it('lapses exactly TTL seconds after the lock', () => {
    expect(lockExpired(new Date(now.getTime() - 899_999), now, TTL)).toBe(false);
    expect(lockExpired(new Date(now.getTime() - 900_000), now, TTL)).toBe(true);
    expect(lockExpired(null, now, TTL)).toBe(false);
  });
});

describe('decideCouponStep', () => {
  const decide = (step: CouponStep, coupon: CouponState, use: CouponUseStatus | null) => decideCouponStep(step, coupon, use, now, TTL).kind;

  it('locks an ISSUED coupon that has not expired', () => {
    expect(decide('LOCK', issued, null)).toBe('apply');
  });

  it('refuses to lock an expired, redeemed, void or otherwise locked coupon', () => {
    expect(decide('LOCK', { ...issued, expiresAt: now }, null)).toBe('conflict');
    expect(decide('LOCK', { ...issued, status: CouponStatus.EXPIRED }, null)).toBe('conflict');
    expect(decide('LOCK', { ...issued, status: CouponStatus.VOID }, null)).toBe('conflict');
    expect(decide('LOCK', { ...lockedBy('P1', 0), status: CouponStatus.REDEEMED }, null)).toBe('conflict');
    expect(decide('LOCK', lockedBy('P1', 10), null)).toBe('conflict');
  });

  it('takes over a lapsed lock of another payment, unless the coupon has expired meanwhile', () => {
    expect(decide('LOCK', lockedBy('P1', TTL), null)).toBe('takeover');
    expect(decide('LOCK', { ...lockedBy('P1', TTL), expiresAt: now }, null)).toBe('conflict');
  });

  it('replays every step this payment already took, whatever happened next', () => {
    for (const use of Object.values(CouponUseStatus)) expect(decide('LOCK', issued, use)).toBe('replay');
    expect(decide('REDEEM', lockedBy('P1', 0), CouponUseStatus.REDEEMED)).toBe('replay');
    expect(decide('REDEEM', issued, CouponUseStatus.RESTORED)).toBe('replay');
    expect(decide('RELEASE', issued, CouponUseStatus.RELEASED)).toBe('replay');
    expect(decide('RESTORE', issued, CouponUseStatus.RESTORED)).toBe('replay');
  });

  it('redeems or releases only this payment\'s live lock, and restores only its redemption', () => {
    expect(decide('REDEEM', lockedBy('P1', 10), CouponUseStatus.LOCKED)).toBe('apply');
    expect(decide('RELEASE', lockedBy('P1', 10), CouponUseStatus.LOCKED)).toBe('apply');
    expect(decide('RESTORE', lockedBy('P1', 10), CouponUseStatus.REDEEMED)).toBe('apply');
    for (const step of ['REDEEM', 'RELEASE', 'RESTORE'] as const) expect(decide(step, lockedBy('P2', 10), null)).toBe('conflict');
    expect(decide('REDEEM', issued, CouponUseStatus.RELEASED)).toBe('conflict');
    expect(decide('RELEASE', issued, CouponUseStatus.REDEEMED)).toBe('conflict');
    expect(decide('RESTORE', lockedBy('P1', 10), CouponUseStatus.LOCKED)).toBe('conflict');
    expect(decide('RESTORE', issued, CouponUseStatus.RELEASED)).toBe('conflict');
  });

  it('does not redeem a lapsed lock but still lets its payment release it', () => {
    expect(decide('REDEEM', lockedBy('P1', TTL), CouponUseStatus.LOCKED)).toBe('conflict');
    expect(decide('RELEASE', lockedBy('P1', TTL), CouponUseStatus.LOCKED)).toBe('apply');
  });
});
