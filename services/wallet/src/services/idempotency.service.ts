import type { EntityManager } from 'typeorm';
import { conflict, isDuplicateKey } from '@membergraph/platform';
import { IdempotencyKeyEntity } from '../entities/idempotency-key.entity';

/**
 * Claims `key` for a request with input `fingerprint`, first thing in the transaction. Returns null
 * when the request is new (the caller does the work, then {@link completeKey}); the first result's
 * id when it is a retry; CONFLICT when the key came with a different input. A concurrent request
 * with the same key blocks on the claimed row until the first commits, then replays it.
 */
export async function claimKey(em: EntityManager, scope: string, key: string, fingerprint: string): Promise<string | null> {
  const repo = em.getRepository(IdempotencyKeyEntity);
  try {
    await repo.insert({ scope, key, fingerprint, resultId: null, createdAt: new Date() });
    return null;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  // Only the failed statement was rolled back; the first request has committed (READ COMMITTED sees it).
  const first = await repo.findOneByOrFail({ scope, key });
  if (first.fingerprint !== fingerprint) {
    throw conflict('idempotencyKey was already used with a different input', { field: 'idempotencyKey' });
  }
  if (!first.resultId) throw new Error(`idempotency key ${scope}/${key} has no result`);
  return first.resultId;
}

/** Records what the request created, in the same transaction as the claim. */
export async function completeKey(em: EntityManager, scope: string, key: string, resultId: string): Promise<void> {
  await em.getRepository(IdempotencyKeyEntity).update({ scope, key }, { resultId });
}
