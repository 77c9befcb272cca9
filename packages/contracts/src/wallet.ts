/** Events of the wallet service (stream WALLET). */
import { z } from 'zod';
import { id } from './common';

export const WalletEventType = {
  WalletOpened: 'wallet.opened',
  WalletChanged: 'wallet.changed',
  WalletRiskFlagged: 'wallet.risk_flagged',
} as const;

export const walletOpened = z.object({
  memberId: id,
});
export type WalletOpened = z.infer<typeof walletOpened>;

const fen = z.number().int();

/** Every movement of a member's balance (for notifications and analytics): ids and amounts only. */
export const walletChanged = z.object({
  memberId: id,
  /** The journal that moved the money. */
  journalId: id,
  /** TOP_UP, TOP_UP_REFUND, DEBIT, REVERSAL, PAYMENT_HOLD, PAYMENT_RELEASE, PAYMENT_REFUND... */
  kind: z.string().min(1),
  /** The business record: top-up, refund or debit id. */
  reference: id,
  /** Signed change of the principal and of the bonus, in fen. */
  principalDelta: fen,
  bonusDelta: fen,
  /** Balances right after the movement, in fen. */
  principal: fen.nonnegative(),
  bonus: fen.nonnegative(),
});
export type WalletChanged = z.infer<typeof walletChanged>;

/** A payment broke a risk rule and was refused: ids and amounts only. */
export const walletRiskFlagged = z.object({
  memberId: id,
  /** SINGLE_PAYMENT_CAP or DAILY_CAP. */
  rule: z.string().min(1),
  /** The cap, in fen. */
  limit: fen.nonnegative(),
  /** What was compared with it, in fen. */
  attempted: fen.nonnegative(),
  /** The order the payment was for. */
  orderRef: z.string().min(1),
  /** The payment, when the rule fired after it was recorded (a concurrent spend got there first). */
  paymentId: z.string().nullable(),
});
export type WalletRiskFlagged = z.infer<typeof walletRiskFlagged>;

export const walletEventSchemas = {
  [WalletEventType.WalletOpened]: walletOpened,
  [WalletEventType.WalletChanged]: walletChanged,
  [WalletEventType.WalletRiskFlagged]: walletRiskFlagged,
} as const;
