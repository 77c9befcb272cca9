import DataLoader from 'dataloader';
import type { ServiceKit } from '@membergraph/platform';
import type { WalletConfig } from '../config';
import type { WalletAccountRow } from '../entities/wallet-account.entity';
import { walletsByMemberIds } from '../services/wallet-account.service';

export interface WalletLoaders {
  account: DataLoader<string, WalletAccountRow | null>;
}

/** Per-request loaders: one query for the wallets of every member in an `_entities` batch. */
export function walletLoaders(kit: ServiceKit<WalletConfig>): WalletLoaders {
  const em = kit.ds.manager;
  return {
    account: new DataLoader((ids) => walletsByMemberIds(em, ids)),
  };
}
