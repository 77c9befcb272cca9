/**
 * Events the wallet service publishes. They belong in @membergraph/contracts beside the member
 * events; they live here until that package grows them (packages/ was out of this change's scope).
 */
import { z } from 'zod';

export const WalletEventType = {
  WalletOpened: 'wallet.opened',
} as const;

export const walletOpened = z.object({
  memberId: z.string().min(1),
});
export type WalletOpened = z.infer<typeof walletOpened>;
