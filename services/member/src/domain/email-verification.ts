/**
 * Email verification link rules: a random single-use token per request, stored only as a keyed
 * hash, valid for a while, and only for the address it was sent to.
 */

/** 32 random bytes as base64url: 43 characters. */
export const EMAIL_TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export const isEmailTokenShaped = (token: string): boolean => TOKEN_SHAPE.test(token);

/** Why a token does not verify. */
export type EmailTokenRefusal = 'INVALID' | 'EXPIRED' | 'USED' | 'STALE';

/** The parts of a stored token the rule looks at. */
export interface EmailTokenState {
  expiresAt: Date;
  consumedAt: Date | null;
  /** Blind index of the address the link went to. */
  emailIndex: string;
}

/**
 * Whether a stored token (null: unknown) verifies now for a member whose current address has
 * blind index `currentEmailIndex` (null: no address, or erased). A token for an address the member
 * has since changed is STALE: it proves nothing about the new one.
 */
export function emailTokenCheck(token: EmailTokenState | null, currentEmailIndex: string | null, now: Date): { ok: true } | { ok: false; reason: EmailTokenRefusal } {
  if (!token) return { ok: false, reason: 'INVALID' };
  if (token.consumedAt) return { ok: false, reason: 'USED' };
  if (token.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'EXPIRED' };
  if (!currentEmailIndex || currentEmailIndex !== token.emailIndex) return { ok: false, reason: 'STALE' };
  return { ok: true };
}

/** The link a member clicks: the configured page with the token as `token` query parameter. */
export function verificationLink(baseUrl: string, token: string): string {
  const url = new URL(baseUrl);
  url.searchParams.set('token', token);
  return url.toString();
}
