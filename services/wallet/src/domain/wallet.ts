/** Whether a wallet may move money; FROZEN stops spending (staff or risk rules freeze it). */
export const WalletStatus = {
  ACTIVE: 'ACTIVE',
  FROZEN: 'FROZEN',
} as const;
export type WalletStatus = (typeof WalletStatus)[keyof typeof WalletStatus];

/**
 * The member's status in the member service, as this service projects it: FROZEN members neither
 * spend nor earn, BLACKLISTED have no access, ERASED are gone. Only ACTIVE members move money in
 * or out of their wallet; money going back (refunds, released holds) is never blocked.
 */
export const MemberStatus = {
  ACTIVE: 'ACTIVE',
  FROZEN: 'FROZEN',
  BLACKLISTED: 'BLACKLISTED',
  ERASED: 'ERASED',
} as const;
export type MemberStatus = (typeof MemberStatus)[keyof typeof MemberStatus];

/**
 * The two balances a member holds, in fen. Principal (money paid in) and bonus (granted on
 * top-ups) stay apart: a refunded top-up returns principal and takes the bonus back. When the
 * double-entry journal lands these become cached balances of two liability accounts per member.
 */
export interface WalletBalances {
  principal: number;
  bonus: number;
}

/** What a member and staff see of a wallet. */
export interface WalletView extends WalletBalances {
  balance: number;
  status: WalletStatus;
}

/** The total a member can spend: principal plus bonus. */
export function totalBalance({ principal, bonus }: WalletBalances): number {
  const total = principal + bonus;
  if (!Number.isSafeInteger(principal) || !Number.isSafeInteger(bonus) || !Number.isSafeInteger(total)) {
    throw new RangeError(`wallet balances must be whole numbers of fen, got principal ${principal}, bonus ${bonus}`);
  }
  return total;
}

/**
 * The wallet as shown. No account yet means the `member.registered` event has not been handled:
 * the member simply has nothing in it, so answer zeros and ACTIVE rather than an error.
 */
export function walletView(account: (WalletBalances & { status: WalletStatus }) | null): WalletView {
  if (!account) return { balance: 0, principal: 0, bonus: 0, status: WalletStatus.ACTIVE };
  return { balance: totalBalance(account), principal: account.principal, bonus: account.bonus, status: account.status };
}
