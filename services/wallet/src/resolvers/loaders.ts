import DataLoader from 'dataloader';
import type { ServiceKit } from '@membergraph/platform';
import type { WalletConfig } from '../config';
import type { WalletAccountRow } from '../entities/wallet-account.entity';
import { walletsByMemberIds } from '../services/wallet-account.service';
import { PaymentEntity, type PaymentRow } from '../entities/payment.entity';
import { In } from 'typeorm';

export interface WalletLoaders {
  account: DataLoader<string, WalletAccountRow | null>;
  /** Payments by orderRef (Order.payments), oldest first. */
  paymentsByOrder: DataLoader<string, PaymentRow[]>;
}

/** Per-request loaders: one query for the wallets of every member in an `_entities` batch. */
export function walletLoaders(kit: ServiceKit<WalletConfig>): WalletLoaders {
  const em = kit.ds.manager;
  return {
    account: new DataLoader((ids) => walletsByMemberIds(em, ids)),
    paymentsByOrder: new DataLoader(async (refs) => {
      const rows = await em.getRepository(PaymentEntity).find({ where: { orderRef: In([...refs]) }, order: { createdAt: 'ASC', id: 'ASC' } });
      return refs.map((ref) => rows.filter((r) => r.orderRef === ref));
    }),
  };
}
