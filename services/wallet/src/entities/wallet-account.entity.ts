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
  /**
   * The daily-cap counter (see `DailySpend` in domain/checkout.ts): the business day it counts, null
   * when never counted (rebuilt from the payments on the next one)...
   */
  riskDay: string | null;
  /** ...and the balance taken (held or captured, not released) by payments in that day, in fen. */
  riskDaySpent: number;
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
    riskDay: { name: 'risk_day', type: 'char', length: 10, nullable: true },
    riskDaySpent: { name: 'risk_day_spent', type: 'bigint', default: 0, transformer: bigintColumn },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
  },
});
