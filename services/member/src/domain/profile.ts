/** Lower-cased, trimmed email when it looks deliverable, else null. */
export function normalizeEmail(input: string): string | null {
  const email = input.trim().toLowerCase();
  if (email.length > 254) return null;
  return /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(email) ? email : null;
}

/** A real calendar date as YYYY-MM-DD, between 1900-01-01 and `today`, else null. */
export function normalizeBirthday(input: string, today: Date): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  if (y < 1900 || date.getTime() > today.getTime()) return null;
  return m[0];
}

/** Channels where a member registers themself (with a REGISTER code); STORE and IMPORT are staff work. */
export const SELF_SERVICE_CHANNELS = new Set(['WEB', 'APP', 'MINI_PROGRAM', 'SOCIAL', 'EVENT']);

/** Genders a member may state. */
export const GENDERS = new Set(['FEMALE', 'MALE', 'OTHER', 'UNDISCLOSED']);

/** What makes a profile complete: a name, an email and a birthday. */
export interface ProfileFacts {
  name?: string | null;
  email?: string | null;
  birthday?: string | null;
}

export function isProfileComplete(p: ProfileFacts): boolean {
  return Boolean(p.name && p.email && p.birthday);
}

/**
 * Whether this change completes the profile for the first time: complete after, and never
 * completed before (`completedBefore`), so clearing a field and filling it again emits nothing.
 */
export function completesProfile(completedBefore: boolean, after: ProfileFacts): boolean {
  return !completedBefore && isProfileComplete(after);
}
