/** Events of the wallet service (stream WALLET). */
import { z } from 'zod';
import { id } from './common';

export const WalletEventType = {
  WalletOpened: 'wallet.opened',
} as const;

export const walletOpened = z.object({
  memberId: id,
});
export type WalletOpened = z.infer<typeof walletOpened>;

export const walletEventSchemas = {
  [WalletEventType.WalletOpened]: walletOpened,
} as const;
