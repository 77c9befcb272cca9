import { EntitySchema } from 'typeorm';

/**
 * One row per idempotent mutation (`<operation>:<caller's key>`): the hash of the input it was
 * first called with and the result it returned, so a retry gets the same answer and a different
 * input under the same key is a CONFLICT.
 */
export interface IdempotencyRecordRow {
  key: string;
  /** sha256 of the canonical JSON of the input. */
  requestHash: string;
  /** JSON of the first result. */
  result: string;
  createdAt: Date;
}

export const IdempotencyRecordEntity = new EntitySchema<IdempotencyRecordRow>({
  name: 'IdempotencyRecord',
  tableName: 'points_idempotency',
  columns: {
    key: { type: 'varchar', length: 160, primary: true },
    requestHash: { name: 'request_hash', type: 'char', length: 64 },
    result: { type: 'longtext' },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
});
