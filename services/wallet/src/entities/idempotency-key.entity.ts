import { EntitySchema } from 'typeorm';

/**
 * A money mutation's idempotency key, claimed first in its transaction: a concurrent request with
 * the same key waits on this row and then replays the first result (or is a CONFLICT).
 */
export interface IdempotencyKeyRow {
  /** The mutation (topUp, refundTopUp, debitWallet): keys are unique per mutation. */
  scope: string;
  key: string;
  /** Fingerprint of the first request's input. */
  fingerprint: string;
  /** The id of what the first request created. */
  resultId: string | null;
  createdAt: Date;
}

export const IdempotencyKeyEntity = new EntitySchema<IdempotencyKeyRow>({
  name: 'IdempotencyKey',
  tableName: 'wallet_idempotency_key',
  columns: {
    scope: { type: 'varchar', length: 32, primary: true },
    key: { name: 'idem_key', type: 'varchar', length: 128, primary: true },
    fingerprint: { type: 'char', length: 64 },
    resultId: { name: 'result_id', type: 'varchar', length: 26, nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
});
