import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/**
 * The end of the journal hash chain (one row, id 1). Only the sealer locks it (FOR UPDATE, one
 * transaction per batch of journals), so posting a journal never waits for it.
 */
export interface ChainHeadRow {
  id: number;
  /** The `chain_pos` of the last sealed journal (0: none). */
  seq: number;
  hash: string;
  updatedAt: Date;
}

export const ChainHeadEntity = new EntitySchema<ChainHeadRow>({
  name: 'ChainHead',
  tableName: 'wallet_chain_head',
  columns: {
    id: { type: 'tinyint', primary: true },
    seq: { type: 'bigint', transformer: bigintColumn },
    hash: { type: 'char', length: 64 },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
  },
});
