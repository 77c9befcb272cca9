import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { WalletStatus } from '../domain/wallet';

/**
 * A member's stored-value account, opened on registration. Principal and bonus are the cached
 * balances of the member's two sub-ledger accounts in fen, moved only by postJournal (never below
 * zero); this row is also the member's lock for check-and-debit.
 */
export interface WalletAccountRow {
  memberId: string;
  principal: number;
  bonus: number;
  status: WalletStatus;
  /** ISO 4217; amounts are in its minor unit. */
  currency: string;
  createdAt: Date;
  updatedAt: Date;
}

export const WalletAccountEntity = new EntitySchema<WalletAccountRow>({
  name: 'WalletAccount',
  tableName: 'wallet_account',
  columns: {
    memberId: { name: 'member_id', type: 'varchar', length: 26, primary: true },
    principal: { type: 'bigint', default: 0, transformer: bigintColumn },
    bonus: { type: 'bigint', default: 0, transformer: bigintColumn },
    status: { type: 'varchar', length: 16, default: 'ACTIVE' },
    currency: { type: 'char', length: 3, default: 'CNY' },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
  },
});
