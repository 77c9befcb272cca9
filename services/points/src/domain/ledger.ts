/** Every kind of ledger entry the points account knows. */
export const EntryType = {
  EARN: 'EARN',
  SPEND: 'SPEND',
  EXPIRE: 'EXPIRE',
  REVERSE: 'REVERSE',
  ADJUST: 'ADJUST',
  HOLD: 'HOLD',
  CAPTURE: 'CAPTURE',
  RELEASE: 'RELEASE',
  /** A refunded checkout gives a captured hold's points back to their (unexpired) lots: +n, negative draws. */
  RESTORE: 'RESTORE',
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** Why points were earned; shown to members and staff as the entry's reason. */
export const EarnReason = {
  WELCOME: 'WELCOME',
  ORDER: 'ORDER',
  CHECK_IN: 'CHECK_IN',
  REVIEW: 'REVIEW',
  SHARE: 'SHARE',
  PROFILE_COMPLETED: 'PROFILE_COMPLETED',
} as const;
export type EarnReason = (typeof EarnReason)[keyof typeof EarnReason];

/** Reasons of entries written by staff and jobs rather than earned. */
export const OtherReason = {
  /** adjustPoints by SUPPORT/ADMIN; the operator's words are in the entry's note. */
  ADJUSTMENT: 'ADJUSTMENT',
  /** The expiry job took lots past their expiry. */
  EXPIRY: 'EXPIRY',
  /** A checkout hold: HOLD, its CAPTURE, or a RELEASE asked for by the caller. */
  PAYMENT: 'PAYMENT',
  /** A hold nobody resolved before its expiry released itself. */
  HOLD_EXPIRED: 'HOLD_EXPIRED',
  /** A refunded order took back (part of) the points it earned. */
  REFUND: 'REFUND',
  /** The wallet refunded a payment made with points: a RESTORE of a captured hold. */
  PAYMENT_REFUND: 'PAYMENT_REFUND',
  /** The member spent points on a catalogue reward (SPEND, reference = the redemption id). */
  REDEMPTION: 'REDEMPTION',
} as const;

/**
 * Natural idempotency keys: one welcome bonus per member, one earning per order, whichever event
 * (or how many copies of it) announced them.
 */
export const idempotencyKeys = {
  welcome: (memberId: string) => `welcome:${memberId}`,
  order: (orderId: string) => `order:${orderId}`,
  /** Caller-chosen keys are namespaced per operation so they never collide with natural ones. */
  adjust: (key: string) => `adjust:${key}`,
  /** One EXPIRE entry per member per expiry run. */
  expire: (runId: string, memberId: string) => `expire:${runId}:${memberId}`,
  /** A hold's three possible entries: each at most once, whoever (caller, sweeper) writes it. */
  hold: (holdId: string) => `hold:${holdId}`,
  capture: (holdId: string) => `capture:${holdId}`,
  release: (holdId: string) => `release:${holdId}`,
  /** One REVERSE entry per refund, however many events announce it. */
  refund: (refundId: string) => `refund:${refundId}`,
  /** One RESTORE per give-back of a captured hold. */
  restore: (holdId: string, refundId: string) => `restore:${holdId}:${refundId}`,
  /** One check-in per member and business day. */
  checkIn: (memberId: string, day: string) => `checkin:${memberId}:${day}`,
  /** A review or share once per reported reference. */
  behaviour: (type: string, reference: string) => `behaviour:${type}:${reference}`,
  /** Profile completion earns once per member, whoever reports it (event or integration). */
  profile: (memberId: string) => `profile:${memberId}`,
};

/**
 * The running totals an account keeps beside its ledger, each the sum of a column of its entries:
 * `balance` (amount) includes points on hold, `held` (held) is what open holds reserve.
 */
export interface AccountTotals {
  balance: number;
  lifetimeEarned: number;
  held: number;
}

export const EMPTY_ACCOUNT: AccountTotals = { balance: 0, lifetimeEarned: 0, held: 0 };

/** Points the member can spend or reserve now: the balance less what open holds reserve; negative in debt. */
export function availableOf(account: Pick<AccountTotals, 'balance' | 'held'>): number {
  return account.balance - account.held;
}

/**
 * The totals after one entry: the balance moves by the signed `amount`, the points on hold by the
 * signed `held`, and only EARN counts towards lifetime earnings. An entry always moves something:
 * HOLD (held +n) and RELEASE (held -n) leave the balance alone, CAPTURE moves both (-n, -n).
 */
export function applyEntry(account: AccountTotals, type: EntryType, amount: number, held = 0): AccountTotals {
  if (!Number.isSafeInteger(amount) || !Number.isSafeInteger(held) || (amount === 0 && held === 0)) {
    throw new RangeError(`an entry moves a whole, non-zero number of points, got ${amount} (held ${held})`);
  }
  if (type === EntryType.EARN && amount < 0) throw new RangeError(`EARN must be positive, got ${amount}`);
  const balance = account.balance + amount;
  const lifetimeEarned = account.lifetimeEarned + (type === EntryType.EARN ? amount : 0);
  const heldAfter = account.held + held;
  if (heldAfter < 0) throw new RangeError(`points on hold cannot go below zero, got ${heldAfter}`);
  if (!Number.isSafeInteger(balance) || !Number.isSafeInteger(lifetimeEarned) || !Number.isSafeInteger(heldAfter)) throw new RangeError('points balance overflow');
  return { balance, lifetimeEarned, held: heldAfter };
}
