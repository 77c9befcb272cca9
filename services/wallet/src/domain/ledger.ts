/**
 * The double-entry journal, as pure rules.
 *
 * Sign convention: every amount is CREDIT-POSITIVE (what the platform owes the account goes up).
 * Member sub-accounts and the stored-value liability therefore carry positive balances, cash
 * clearing and bonus expense negative ones, and an account's balance is simply the sum of its entries.
 *
 * Two books in one journal:
 * - the general ledger (system accounts): its entries sum to zero in every journal;
 * - the member sub-ledger (each member's PRINCIPAL and BONUS): the detail behind the SV_LIABILITY
 *   control account. In every journal the member entries sum to exactly the SV_LIABILITY entries,
 *   so over all time the members' balances equal the liability account.
 */
import type { WalletBalances } from './wallet';

/** System (general-ledger) accounts. */
export const SystemAccount = {
  /** Money received from (or paid back to) payment providers, awaiting settlement. */
  CASH_CLEARING: 'CASH_CLEARING',
  /** Bonus granted on top-ups (a marketing cost); taken-back bonus credits it back. */
  BONUS_EXPENSE: 'BONUS_EXPENSE',
  /** What the platform owes members: control account of every member's principal and bonus. */
  SV_LIABILITY: 'SV_LIABILITY',
  /** Balance spent by members, awaiting settlement with the stores/orders it paid. */
  SPEND_CLEARING: 'SPEND_CLEARING',
  /** Balance held by unfinished checkouts: out of the member's reach, not yet spent. */
  PAYMENT_HOLD: 'PAYMENT_HOLD',
  /** Money received for stored-value cards (sold before they are bound): a bind moves it to the liability. */
  CARD_FLOAT: 'CARD_FLOAT',
} as const;
export type SystemAccount = (typeof SystemAccount)[keyof typeof SystemAccount];

/** A member's two sub-accounts. */
export const MemberAccount = {
  PRINCIPAL: 'PRINCIPAL',
  BONUS: 'BONUS',
} as const;
export type MemberAccount = (typeof MemberAccount)[keyof typeof MemberAccount];

export type AccountCode = SystemAccount | MemberAccount;

export const isMemberAccount = (code: string): code is MemberAccount => code === MemberAccount.PRINCIPAL || code === MemberAccount.BONUS;
export const isSystemAccount = (code: string): code is SystemAccount => Object.values(SystemAccount).includes(code as SystemAccount);

/** What a journal records. */
export const JournalKind = {
  TOP_UP: 'TOP_UP',
  TOP_UP_REFUND: 'TOP_UP_REFUND',
  DEBIT: 'DEBIT',
  /** A correction: the exact negation of an earlier journal. */
  REVERSAL: 'REVERSAL',
  /** A checkout holds balance: it leaves the member's sub-balances for PAYMENT_HOLD. */
  PAYMENT_HOLD: 'PAYMENT_HOLD',
  /** A checkout completed: the held balance is spent (system accounts only). */
  PAYMENT_CAPTURE: 'PAYMENT_CAPTURE',
  /** A checkout failed: the held balance goes back to the sub-balances it came from. */
  PAYMENT_RELEASE: 'PAYMENT_RELEASE',
  /** A captured payment refunded (in part): spent balance goes back to its sub-balances. */
  PAYMENT_REFUND: 'PAYMENT_REFUND',
  /** A stored-value card bound: its face value loaded into the member's principal. */
  CARD_LOAD: 'CARD_LOAD',
} as const;
export type JournalKind = (typeof JournalKind)[keyof typeof JournalKind];

/** One entry of a journal. `memberId` is set exactly on member sub-account entries. */
export interface Posting {
  account: AccountCode;
  memberId: string | null;
  amount: number;
}

const sys = (account: SystemAccount, amount: number): Posting => ({ account, memberId: null, amount });
const mem = (memberId: string, account: MemberAccount, amount: number): Posting => ({ account, memberId, amount });

function assertFen(name: string, value: number, min = 0) {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be a whole number of fen >= ${min}, got ${value}`);
}

/** Drops zero entries: a journal never records a movement of nothing. */
const nonZero = (postings: Posting[]) => postings.filter((p) => p.amount !== 0);

/** A top-up: cash in, bonus granted, both owed to the member. */
export function topUpPostings(memberId: string, principal: number, bonus: number): Posting[] {
  assertFen('principal', principal, 1);
  assertFen('bonus', bonus);
  return nonZero([
    sys(SystemAccount.CASH_CLEARING, -principal),
    sys(SystemAccount.BONUS_EXPENSE, -bonus),
    sys(SystemAccount.SV_LIABILITY, principal + bonus),
    mem(memberId, MemberAccount.PRINCIPAL, principal),
    mem(memberId, MemberAccount.BONUS, bonus),
  ]);
}

/** How a top-up refund splits. */
export interface RefundPlan {
  /** Money paid back to the payer. */
  principalReturned: number;
  /** Bonus of the top-up still in the wallet, taken back. */
  bonusTakenBack: number;
  /** Bonus already spent, recovered by keeping that much of the principal. */
  bonusFromPrincipal: number;
  /** Spent bonus that exceeds the principal: cannot be recovered, stays an expense. */
  bonusWrittenOff: number;
}

/**
 * Refunding a top-up of `principal` + `bonus` from a wallet holding `balances`: the whole principal
 * leaves the member's principal; the top-up's bonus is taken back from the bonus balance as far as
 * it is still there; what was already spent is kept out of the principal returned (never below 0).
 * Returns null when the member's principal no longer covers the top-up's principal.
 */
export function planRefund(topUp: { principal: number; bonus: number }, balances: WalletBalances): RefundPlan | null {
  assertFen('principal', topUp.principal, 1);
  assertFen('bonus', topUp.bonus);
  if (balances.principal < topUp.principal) return null;
  const bonusTakenBack = Math.min(topUp.bonus, Math.max(0, balances.bonus));
  const shortfall = topUp.bonus - bonusTakenBack;
  const bonusFromPrincipal = Math.min(shortfall, topUp.principal);
  return {
    principalReturned: topUp.principal - bonusFromPrincipal,
    bonusTakenBack,
    bonusFromPrincipal,
    bonusWrittenOff: shortfall - bonusFromPrincipal,
  };
}

/** The journal of a refund planned by {@link planRefund}. */
export function refundPostings(memberId: string, topUpPrincipal: number, plan: RefundPlan): Posting[] {
  const leaving = topUpPrincipal + plan.bonusTakenBack;
  return nonZero([
    sys(SystemAccount.CASH_CLEARING, plan.principalReturned),
    sys(SystemAccount.BONUS_EXPENSE, plan.bonusTakenBack + plan.bonusFromPrincipal),
    sys(SystemAccount.SV_LIABILITY, -leaving),
    mem(memberId, MemberAccount.PRINCIPAL, -topUpPrincipal),
    mem(memberId, MemberAccount.BONUS, -plan.bonusTakenBack),
  ]);
}

/** Which sub-balance a spend draws from first. */
export const SpendOrder = {
  PRINCIPAL_FIRST: 'PRINCIPAL_FIRST',
  BONUS_FIRST: 'BONUS_FIRST',
} as const;
export type SpendOrder = (typeof SpendOrder)[keyof typeof SpendOrder];

/** Splits a spend of `amount` over the sub-balances, or null when they do not cover it. */
export function planDebit(amount: number, balances: WalletBalances, order: SpendOrder = SpendOrder.PRINCIPAL_FIRST): WalletBalances | null {
  assertFen('amount', amount, 1);
  if (balances.principal < 0 || balances.bonus < 0 || balances.principal + balances.bonus < amount) return null;
  if (order === SpendOrder.PRINCIPAL_FIRST) {
    const principal = Math.min(amount, balances.principal);
    return { principal, bonus: amount - principal };
  }
  const bonus = Math.min(amount, balances.bonus);
  return { principal: amount - bonus, bonus };
}

/** The journal of a spend split by {@link planDebit}. */
export function debitPostings(memberId: string, split: WalletBalances): Posting[] {
  const amount = split.principal + split.bonus;
  return nonZero([
    sys(SystemAccount.SPEND_CLEARING, amount),
    sys(SystemAccount.SV_LIABILITY, -amount),
    mem(memberId, MemberAccount.PRINCIPAL, -split.principal),
    mem(memberId, MemberAccount.BONUS, -split.bonus),
  ]);
}

/** A checkout's hold of a split taken by {@link planDebit}: the member's money moves to PAYMENT_HOLD. */
export function paymentHoldPostings(memberId: string, split: WalletBalances): Posting[] {
  const amount = split.principal + split.bonus;
  assertFen('amount', amount, 1);
  return nonZero([
    sys(SystemAccount.PAYMENT_HOLD, amount),
    sys(SystemAccount.SV_LIABILITY, -amount),
    mem(memberId, MemberAccount.PRINCIPAL, -split.principal),
    mem(memberId, MemberAccount.BONUS, -split.bonus),
  ]);
}

/** Capturing a hold of `amount`: spent, awaiting settlement like any debit. */
export function paymentCapturePostings(amount: number): Posting[] {
  assertFen('amount', amount, 1);
  return [sys(SystemAccount.PAYMENT_HOLD, -amount), sys(SystemAccount.SPEND_CLEARING, amount)];
}

/** Releasing a hold: the exact way back of {@link paymentHoldPostings}. */
export function paymentReleasePostings(memberId: string, split: WalletBalances): Posting[] {
  return reversalPostings(paymentHoldPostings(memberId, split));
}

/** Refunding spent balance to the sub-balances it came from (split by splitPaymentRefund). */
export function paymentRefundPostings(memberId: string, split: WalletBalances): Posting[] {
  return reversalPostings(debitPostings(memberId, split));
}

/** Binding a card of `faceValue`: the card float becomes the member's principal (paid-in money, no bonus). */
export function cardLoadPostings(memberId: string, faceValue: number): Posting[] {
  assertFen('faceValue', faceValue, 1);
  return [sys(SystemAccount.CARD_FLOAT, -faceValue), sys(SystemAccount.SV_LIABILITY, faceValue), mem(memberId, MemberAccount.PRINCIPAL, faceValue)];
}

/** A correcting journal: every entry of `postings` negated. Entries are never edited. */
export function reversalPostings(postings: readonly Posting[]): Posting[] {
  return postings.map((p) => ({ ...p, amount: -p.amount }));
}

/** Why a journal is not well formed, or null when it is. */
export function journalDefect(postings: readonly Posting[]): string | null {
  if (postings.length === 0) return 'a journal has at least one entry';
  let general = 0;
  let liability = 0;
  let members = 0;
  for (const p of postings) {
    if (!Number.isSafeInteger(p.amount) || p.amount === 0) return `entry ${p.account} moves ${p.amount}: whole, non-zero fen only`;
    if (isMemberAccount(p.account) !== (p.memberId !== null)) return `entry ${p.account}: member accounts need a member id, system accounts none`;
    if (p.memberId === null) general += p.amount;
    else members += p.amount;
    if (p.account === SystemAccount.SV_LIABILITY) liability += p.amount;
  }
  if (general !== 0) return `system entries sum to ${general}, not 0`;
  if (members !== liability) return `member entries sum to ${members}, the liability moves ${liability}`;
  return null;
}

/** Throws when `postings` are not a balanced journal (a programming error, never a user error). */
export function assertBalanced(postings: readonly Posting[]): void {
  const defect = journalDefect(postings);
  if (defect) throw new Error(`unbalanced journal: ${defect}`);
}

/** How a journal moves one member's sub-balances. */
export function memberDelta(postings: readonly Posting[], memberId: string): WalletBalances {
  const delta = { principal: 0, bonus: 0 };
  for (const p of postings) {
    if (p.memberId !== memberId) continue;
    if (p.account === MemberAccount.PRINCIPAL) delta.principal += p.amount;
    else if (p.account === MemberAccount.BONUS) delta.bonus += p.amount;
  }
  return delta;
}

/** How a journal moves each system account. */
export function systemDeltas(postings: readonly Posting[]): Map<SystemAccount, number> {
  const out = new Map<SystemAccount, number>();
  for (const p of postings) {
    if (p.memberId !== null || !isSystemAccount(p.account)) continue;
    out.set(p.account, (out.get(p.account) ?? 0) + p.amount);
  }
  return out;
}
