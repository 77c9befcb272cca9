import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/**
 * The end of the journal hash chain (one row, id 1). Appending a journal locks it FOR UPDATE, which
 * serialises appends; writers lock it last, after their member account, to hold it briefly.
 */
export interface ChainHeadRow {
  id: number;
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
