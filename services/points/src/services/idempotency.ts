import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { conflict, isDuplicateKey } from '@membergraph/platform';
import { IdempotencyRecordEntity } from '../entities/idempotency-record.entity';

/** JSON with object keys sorted at every level, so equal inputs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export const requestHash = (input: unknown): string => createHash('sha256').update(canonicalJson(input)).digest('hex');

export interface IdempotentRequest {
  /** The mutation, namespacing the caller's keys (`adjustPoints`). */
  operation: string;
  /** The caller's idempotency key. */
  key: string;
  /** Everything that defines the request; compared by hash on a retry. */
  input: unknown;
}

/**
 * Runs `work` once per (operation, key) in the caller's transaction and returns its (JSON) result;
 * a retry with the same input returns the stored first result without running `work`, a retry with
 * a different input is CONFLICT. The record is inserted before `work` runs: a concurrent retry
 * blocks on its key until the first commits, then reads the result. When `work` throws, the
 * transaction rolls back with the record, so a failed request may be retried with the same key.
 */
export async function idempotent<R>(em: EntityManager, req: IdempotentRequest, work: () => Promise<R>): Promise<R> {
  const repo = em.getRepository(IdempotencyRecordEntity);
  const key = `${req.operation}:${req.key}`;
  const hash = requestHash(req.input);
  try {
    await repo.insert({ key, requestHash: hash, result: 'null', createdAt: new Date() });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // Only the failed INSERT rolled back; the committed record is visible under READ COMMITTED.
    const first = await repo.findOneByOrFail({ key });
    if (first.requestHash !== hash) {
      throw conflict(`idempotencyKey ${req.key} was already used with a different input`, { field: 'idempotencyKey' });
    }
    return JSON.parse(first.result) as R;
  }
  const result = await work();
  await repo.update({ key }, { result: JSON.stringify(result ?? null) });
  return result;
}
