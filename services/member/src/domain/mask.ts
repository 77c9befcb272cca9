/** "+8613800000001" -> "+86138****0001": country code and the first and last digits stay readable. */
export function maskPhone(e164: string): string {
  const cc = e164.startsWith('+86') ? '+86' : e164.slice(0, Math.min(3, e164.length - 7));
  const national = e164.slice(cc.length);
  if (national.length <= 7) return `${cc}${national.slice(0, 1)}****${national.slice(-2)}`;
  return `${cc}${national.slice(0, 3)}****${national.slice(-4)}`;
}

/** "Li Lei" -> "L*****", "李雷" -> "李*": only the first character stays. */
export function maskName(name: string): string {
  const chars = Array.from(name);
  if (chars.length <= 1) return '*';
  return chars[0] + '*'.repeat(chars.length - 1);
}

/** "lilei@example.com" -> "l****@example.com": the first character and the domain stay. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '*****';
  return `${email[0]}****${email.slice(at)}`;
}

/** "oAbC1234567890xyZ9" -> "oAbC****yZ9": an opaque provider id keeps its first 4 and last 3 characters (short ones keep 1). */
export function maskIdentifier(id: string): string {
  if (id.length <= 8) return `${id.slice(0, 1)}****`;
  return `${id.slice(0, 4)}****${id.slice(-3)}`;
}
