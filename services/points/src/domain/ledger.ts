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
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** Why points were earned; shown to members and staff as the entry's reason. */
export const EarnReason = {
  WELCOME: 'WELCOME',
  ORDER: 'ORDER',
} as const;
export type EarnReason = (typeof EarnReason)[keyof typeof EarnReason];

/** Reasons of entries written by staff and jobs rather than earned. */
export const OtherReason = {
  /** adjustPoints by SUPPORT/ADMIN; the operator's words are in the entry's note. */
  ADJUSTMENT: 'ADJUSTMENT',
  /** The expiry job took lots past their expiry. */
  EXPIRY: 'EXPIRY',
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
};

/** The running totals an account keeps beside its ledger. */
export interface AccountTotals {
  balance: number;
  lifetimeEarned: number;
}

export const EMPTY_ACCOUNT: AccountTotals = { balance: 0, lifetimeEarned: 0 };

/**
 * The totals after one entry: the balance moves by the signed amount, and only EARN counts
 * towards lifetime earnings. An entry never moves zero points.
 */
export function applyEntry(account: AccountTotals, type: EntryType, amount: number): AccountTotals {
  if (!Number.isSafeInteger(amount) || amount === 0) throw new RangeError(`an entry moves a whole, non-zero number of points, got ${amount}`);
  if (type === EntryType.EARN && amount < 0) throw new RangeError(`EARN must be positive, got ${amount}`);
  const balance = account.balance + amount;
  const lifetimeEarned = account.lifetimeEarned + (type === EntryType.EARN ? amount : 0);
  if (!Number.isSafeInteger(balance) || !Number.isSafeInteger(lifetimeEarned)) throw new RangeError('points balance overflow');
  return { balance, lifetimeEarned };
}
