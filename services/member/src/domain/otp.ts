/** What a one-time code is for; a code only verifies for its own purpose. */
export const OTP_PURPOSES = ['REGISTER', 'LOGIN', 'PAYMENT'] as const;
export type OtpPurpose = (typeof OTP_PURPOSES)[number];

export interface OtpPolicy {
  ttlMs: number;
  /** Verification tries per code, the successful one included. */
  maxAttempts: number;
}

export const DEFAULT_OTP_POLICY: OtpPolicy = { ttlMs: 5 * 60_000, maxAttempts: 5 };

/** The parts of a stored code the rules look at. */
export interface OtpState {
  expiresAt: Date;
  attempts: number;
  consumedAt: Date | null;
}

export type OtpRefusal = 'NO_CODE' | 'EXPIRED' | 'USED' | 'BURNED' | 'MISMATCH';

/**
 * Whether a verification attempt may be made on `otp` at `now`. Attempts are counted before the
 * code is compared, so the refusal order is: used, burned, expired.
 */
export function attemptAllowed(otp: OtpState | null, now: Date, policy: OtpPolicy): { ok: true } | { ok: false; reason: OtpRefusal } {
  if (!otp) return { ok: false, reason: 'NO_CODE' };
  if (otp.consumedAt) return { ok: false, reason: 'USED' };
  if (otp.attempts >= policy.maxAttempts) return { ok: false, reason: 'BURNED' };
  if (now.getTime() >= otp.expiresAt.getTime()) return { ok: false, reason: 'EXPIRED' };
  return { ok: true };
}

export const expiryOf = (issuedAt: Date, policy: OtpPolicy) => new Date(issuedAt.getTime() + policy.ttlMs);

/** A 6-digit code, zero-padded, from a uniform integer source (node:crypto randomInt in production). */
export function newOtpCode(randomInt: (max: number) => number): string {
  return String(randomInt(1_000_000)).padStart(6, '0');
}

/** Codes are exactly 6 digits; anything else cannot match and is refused without counting a try. */
export const isOtpShaped = (code: string) => /^\d{6}$/.test(code);
