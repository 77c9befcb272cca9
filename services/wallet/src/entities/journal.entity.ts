import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { JournalKind } from '../domain/ledger';

/**
 * One balanced movement of money, never edited: corrections are new (reversing) journals. `seq`
 * is its place in the single hash chain; `hash` covers its content, its entries and `prevHash`.
 */
export interface JournalRow {
  seq: number;
  id: string;
  kind: JournalKind;
  /** The member whose wallet moved, if any. */
  memberId: string | null;
  /** The business record behind it (top-up, refund, debit id). */
  reference: string | null;
  createdAt: Date;
  prevHash: string;
  hash: string;
}

export const JournalEntity = new EntitySchema<JournalRow>({
  name: 'Journal',
  tableName: 'wallet_journal',
  columns: {
    seq: { type: 'bigint', primary: true, transformer: bigintColumn },
    id: { type: 'varchar', length: 26, unique: true },
    kind: { type: 'varchar', length: 24 },
    memberId: { name: 'member_id', type: 'varchar', length: 26, nullable: true },
    reference: { type: 'varchar', length: 26, nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    prevHash: { name: 'prev_hash', type: 'char', length: 64 },
    hash: { type: 'char', length: 64 },
  },
});
