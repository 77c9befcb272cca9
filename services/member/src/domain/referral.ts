/** A referral code as typed at registration: 4-32 letters, digits, `_` or `-` (marketing resolves it to an inviter). */
const REFERRAL_CODE = /^[A-Za-z0-9_-]{4,32}$/;

/** The trimmed code when it is well-formed, else null. Kept as typed (case included): marketing owns the codes. */
export function normalizeReferralCode(input: string): string | null {
  const code = input.trim();
  return REFERRAL_CODE.test(code) ? code : null;
}

export const REFERRAL_CODE_RULE = 'referralCode must be 4 to 32 letters, digits, _ or -';
