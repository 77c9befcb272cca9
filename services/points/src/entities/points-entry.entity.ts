import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { EntryType } from '../domain/ledger';

/** One append-only ledger entry; rows are never updated or deleted. */
export interface PointsEntryRow {
  id: string;
  memberId: string;
  type: EntryType;
  /** Signed change in the balance. */
  amount: number;
  /** Signed change in the points on hold: HOLD +n, CAPTURE and RELEASE -n, 0 for every other entry. */
  held: number;
  /** The account balance right after this entry. */
  balanceAfter: number;
  reason: string;
  reference: string | null;
  /** Unique: the last line of defence against a double earn, whatever the inbox did. */
  idempotencyKey: string;
  /** The staff user or client who wrote it (adjustments, expiry runs); null for earnings from events. */
  operator: string | null;
  /** Free text from the operator (the reason given for an adjustment). */
  note: string | null;
  createdAt: Date;
}

export const PointsEntryEntity = new EntitySchema<PointsEntryRow>({
  name: 'PointsEntry',
  tableName: 'points_entry',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    type: { type: 'varchar', length: 16 },
    amount: { type: 'bigint', transformer: bigintColumn },
    held: { type: 'bigint', default: 0, transformer: bigintColumn },
    balanceAfter: { name: 'balance_after', type: 'bigint', transformer: bigintColumn },
    reason: { type: 'varchar', length: 32 },
    reference: { type: 'varchar', length: 128, nullable: true },
    idempotencyKey: { name: 'idempotency_key', type: 'varchar', length: 128 },
    operator: { type: 'varchar', length: 64, nullable: true },
    note: { type: 'varchar', length: 255, nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
  uniques: [{ name: 'uq_points_entry_idempotency', columns: ['idempotencyKey'] }],
  indices: [
    { name: 'idx_points_entry_member', columns: ['memberId', 'id'] },
    { name: 'idx_points_entry_member_type', columns: ['memberId', 'type', 'id'] },
  ],
});
