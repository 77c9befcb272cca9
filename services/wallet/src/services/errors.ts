import { AppError, ErrorCode, conflict } from '@membergraph/platform';

/** A member the member service froze, blacklisted or erased neither tops up nor spends (reason MEMBER_FROZEN, MEMBER_BLACKLISTED, MEMBER_ERASED). */
export const memberNotActive = (memberId: string, status: string) =>
  conflict(`The member is ${status}: their wallet cannot move money`, { reason: `MEMBER_${status}`, memberId, memberStatus: status });

/** A frozen wallet neither tops up nor spends. */
export const walletFrozen = (memberId: string) => conflict('The wallet is frozen', { reason: 'WALLET_FROZEN', memberId });

export const insufficientFunds = (message: string, details: Record<string, unknown>) => new AppError(ErrorCode.INSUFFICIENT_FUNDS, message, details);
