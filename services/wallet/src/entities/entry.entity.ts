import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { AccountCode } from '../domain/ledger';

/**
 * One line of a journal, credit-positive (see src/domain/ledger.ts): a system account, or a
 * member's PRINCIPAL or BONUS sub-account when `memberId` is set. Never edited.
 */
export interface EntryRow {
  journalSeq: number;
  line: number;
  account: AccountCode;
  memberId: string | null;
  amount: number;
}

export const EntryEntity = new EntitySchema<EntryRow>({
  name: 'Entry',
  tableName: 'wallet_entry',
  columns: {
    journalSeq: { name: 'journal_seq', type: 'bigint', primary: true, transformer: bigintColumn },
    line: { type: 'smallint', primary: true },
    account: { type: 'varchar', length: 32 },
    memberId: { name: 'member_id', type: 'varchar', length: 26, nullable: true },
    amount: { type: 'bigint', transformer: bigintColumn },
  },
  // A member's statement, newest first.
  indices: [{ name: 'idx_entry_member', columns: ['memberId', 'journalSeq', 'line'] }],
});
