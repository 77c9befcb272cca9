/** A checkout hold's life: HELD, then exactly one of CAPTURED, RELEASED (asked) or EXPIRED (nobody asked in time). */
export const HoldStatus = {
  HELD: 'HELD',
  CAPTURED: 'CAPTURED',
  RELEASED: 'RELEASED',
  EXPIRED: 'EXPIRED',
} as const;
export type HoldStatus = (typeof HoldStatus)[keyof typeof HoldStatus];

export type HoldAction = 'CAPTURE' | 'RELEASE';

/** What a capture or release request does to a hold in `status`. */
export type HoldDecision =
  /** Write the entry and move the hold to `to`. */
  | { kind: 'apply'; to: HoldStatus }
  /** Already resolved this way: answer with the hold as it is, write nothing. */
  | { kind: 'replay' }
  /** Resolved the other way (or expired): CONFLICT. */
  | { kind: 'conflict'; reason: string };

/**
 * A hold resolves once. Capturing a captured hold, or releasing a released or expired one, repeats
 * the first answer; the other way round is a conflict. A hold past its expiry that the sweeper has
 * not reached yet can no longer be captured (the payment would spend points the member was told
 * are free again) but can be released.
 */
export function decideResolution(status: HoldStatus, action: HoldAction, expiresAt: Date, now: Date): HoldDecision {
  if (action === 'CAPTURE') {
    if (status === HoldStatus.CAPTURED) return { kind: 'replay' };
    if (status !== HoldStatus.HELD) return { kind: 'conflict', reason: `the hold is ${status}, it cannot be captured` };
    if (expiresAt.getTime() <= now.getTime()) return { kind: 'conflict', reason: 'the hold expired, it cannot be captured' };
    return { kind: 'apply', to: HoldStatus.CAPTURED };
  }
  if (status === HoldStatus.RELEASED || status === HoldStatus.EXPIRED) return { kind: 'replay' };
  if (status === HoldStatus.CAPTURED) return { kind: 'conflict', reason: 'the hold was captured, it cannot be released' };
  return { kind: 'apply', to: HoldStatus.RELEASED };
}

/** When a hold made at `now` releases itself. */
export function holdExpiresAt(now: Date, ttlSeconds: number): Date {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`ttlSeconds must be a positive whole number, got ${ttlSeconds}`);
  return new Date(now.getTime() + ttlSeconds * 1000);
}
