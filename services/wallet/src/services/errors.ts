import { AppError, ErrorCode, conflict } from '@membergraph/platform';

/** A frozen wallet neither tops up nor spends. */
export const walletFrozen = (memberId: string) => conflict('The wallet is frozen', { reason: 'WALLET_FROZEN', memberId });

export const insufficientFunds = (message: string, details: Record<string, unknown>) => new AppError(ErrorCode.INSUFFICIENT_FUNDS, message, details);
