import { createHash } from 'node:crypto';
import { EntitySchema, type EntityManager } from 'typeorm';
import { isDuplicateKey } from './db';
import { conflict } from './errors';

/**
 * A mutation's idempotency key, claimed first in its transaction: a concurrent request with the
 * same key waits on this row, then replays the first result (or is a CONFLICT).
 */
export interface IdempotencyKeyRow {
  /** The mutation (`topUp`, `adjustPoints`): keys are unique per operation. */
  operation: string;
  key: string;
  /** {@link requestFingerprint} of the first request's input. */
  fingerprint: string;
  /** JSON of the first result; null only while the first request is in flight. */
  result: string | null;
  createdAt: Date;
}

/** The `idempotency_key` table: services that take caller keys list it in their entities. */
export const IdempotencyKeyEntity = new EntitySchema<IdempotencyKeyRow>({
  name: 'IdempotencyKey',
  tableName: 'idempotency_key',
  columns: {
    operation: { type: 'varchar', length: 64, primary: true },
    key: { name: 'idem_key', type: 'varchar', length: 128, primary: true },
    fingerprint: { type: 'char', length: 64 },
    result: { type: 'longtext', nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
});

function canonical(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined && obj[k] !== null)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * sha256 of a request's input (without its idempotency key): key order and absent versus null
 * optional fields do not change it, any value (or its type) does. Same key + same fingerprint = a retry.
 */
export function requestFingerprint(input: unknown): string {
  return createHash('sha256').update(canonical(input)).digest('hex');
}

export interface IdempotentRequest {
  /** The mutation, namespacing the caller's keys (`adjustPoints`). */
  operation: string;
  /** The caller's idempotency key. */
  key: string;
  /** Everything that defines the request; compared by fingerprint on a retry. */
  input: unknown;
}

/**
 * Runs `work` once per (operation, key) in the caller's transaction and returns its JSON result:
 * the key row is claimed before `work` runs, so a concurrent retry blocks on it until the first
 * commits and then replays the stored result; a retry with another input is CONFLICT
 * (`extensions.field = 'idempotencyKey'`). When `work` throws, the unit of work rolls the claim back
 * with everything else, so a failed request may be retried with the same key.
 */
export async function idempotent<R>(em: EntityManager, req: IdempotentRequest, work: () => Promise<R>): Promise<R> {
  const repo = em.getRepository(IdempotencyKeyEntity);
  const id = { operation: req.operation, key: req.key };
  const fingerprint = requestFingerprint(req.input);
  try {
    await repo.insert({ ...id, fingerprint, result: null, createdAt: new Date() });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // Only the failed INSERT rolled back, and the first request has committed. A locking read
    // sees that commit whatever the isolation level or an earlier snapshot.
    const first = await repo.createQueryBuilder('k').where('k.operation = :operation AND k.key = :key', id).setLock('pessimistic_read').getOneOrFail();
    if (first.fingerprint !== fingerprint) throw conflict('idempotencyKey was already used with a different input', { field: 'idempotencyKey' });
    // A claim committed without its result: a caller caught work's error and committed anyway.
    if (first.result === null) throw new Error(`idempotency key ${req.operation}/${req.key} has no result`);
    return JSON.parse(first.result) as R;
  }
  const result = await work();
  await repo.update(id, { result: JSON.stringify(result ?? null) });
  return result;
}
