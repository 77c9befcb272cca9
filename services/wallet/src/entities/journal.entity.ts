import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { JournalKind } from '../domain/ledger';

/**
 * One balanced movement of money, never edited: corrections are new (reversing) journals. `seq`
 * (AUTO_INCREMENT, gaps where a transaction rolled back) identifies it and orders statements.
 * It is posted unsealed (`chainPos`, `prevHash`, `hash` null); the sealer (ledger-sealer.service.ts)
 * later gives it the next place in the single hash chain, `chainPos` (dense from 1), and `hash`
 * over its content, its entries and `prevHash`. Those three columns are written once, by the sealer.
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
  /** Place in the hash chain; null until sealed. */
  chainPos: number | null;
  prevHash: string | null;
  hash: string | null;
}

export const JournalEntity = new EntitySchema<JournalRow>({
  name: 'Journal',
  tableName: 'wallet_journal',
  columns: {
    seq: { type: 'bigint', primary: true, generated: 'increment', transformer: bigintColumn },
    id: { type: 'varchar', length: 26, unique: true },
    kind: { type: 'varchar', length: 24 },
    memberId: { name: 'member_id', type: 'varchar', length: 26, nullable: true },
    reference: { type: 'varchar', length: 26, nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    // Unique (NULLs do not collide) and the sealer's index: `chain_pos IS NULL` finds the unsealed in seq order.
    chainPos: { name: 'chain_pos', type: 'bigint', nullable: true, unique: true, transformer: bigintColumn },
    prevHash: { name: 'prev_hash', type: 'char', length: 64, nullable: true },
    hash: { type: 'char', length: 64, nullable: true },
  },
});
