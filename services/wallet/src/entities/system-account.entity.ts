import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { SystemAccount } from '../domain/ledger';

/** The cached balance of a general-ledger account: the sum of its entries (checked by walletAudit). */
export interface SystemAccountRow {
  code: SystemAccount;
  balance: number;
  updatedAt: Date;
}

export const SystemAccountEntity = new EntitySchema<SystemAccountRow>({
  name: 'SystemAccount',
  tableName: 'wallet_system_account',
  columns: {
    code: { type: 'varchar', length: 32, primary: true },
    balance: { type: 'bigint', default: 0, transformer: bigintColumn },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
  },
});
