/** Member statuses as the member service announces them. */
export type MemberStatus = 'ACTIVE' | 'FROZEN' | 'BLACKLISTED' | 'ERASED';

const BLOCKED = new Set<string>(['FROZEN', 'BLACKLISTED', 'ERASED']);

/** FROZEN, BLACKLISTED and ERASED members earn nothing (no entry is written). */
export function mayEarn(status: string): boolean {
  return !BLOCKED.has(status);
}

/**
 * ...and cannot reserve or lose points by their own or staff action (holds, negative adjustments).
 * Resolving a hold made before the change, refunds and expiry still apply.
 */
export function mayDebit(status: string): boolean {
  return !BLOCKED.has(status);
}
