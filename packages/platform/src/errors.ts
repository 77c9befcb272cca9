import { GraphQLError } from 'graphql';

/** The stable `extensions.code` values clients can rely on. */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  INSUFFICIENT_FUNDS: 'INSUFFICIENT_FUNDS',
  RATE_LIMITED: 'RATE_LIMITED',
  /** A payment above the step-up threshold needs the member's PAYMENT one-time code. */
  OTP_REQUIRED: 'OTP_REQUIRED',
  /** A risk rule (caps, velocity) refused the operation. */
  RISK_REJECTED: 'RISK_REJECTED',
  /** Another service needed for the answer did not reply in time: nothing was written, retry (same idempotency key). */
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A business error: its message and code are safe to show to the caller. */
export class AppError extends GraphQLError {
  constructor(code: ErrorCode | string, message: string, details?: Record<string, unknown>) {
    super(message, { extensions: { code, ...details } });
    this.name = 'AppError';
  }
}

export const badInput = (message: string, details?: Record<string, unknown>) =>
  new AppError(ErrorCode.BAD_USER_INPUT, message, details);
/** BAD_USER_INPUT naming the input field at fault in `extensions.field`. */
export const badField = (field: string, message: string, details?: Record<string, unknown>) => badInput(message, { field, ...details });
export const unauthenticated = (message = 'Authentication required') => new AppError(ErrorCode.UNAUTHENTICATED, message);
export const forbidden = (message = 'Not allowed') => new AppError(ErrorCode.FORBIDDEN, message);
export const notFound = (what: string) => new AppError(ErrorCode.NOT_FOUND, `${what} not found`);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new AppError(ErrorCode.CONFLICT, message, details);
