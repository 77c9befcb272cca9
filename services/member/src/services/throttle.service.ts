import type { EntityManager } from 'typeorm';
import { AppError, ErrorCode, lockOrCreate } from '@membergraph/platform';
import { ThrottleLockEntity } from '../entities/throttle.entity';
import { retryAfterSeconds } from '../domain/throttle';

/**
 * Locks throttle key `key` (a keyed hash) until the transaction ends, so concurrent requests under
 * it are counted one after the other. Lock keys in a fixed order (phone before IP) to avoid cycles.
 */
export async function lockThrottleKey(em: EntityManager, key: string): Promise<void> {
  await lockOrCreate(em, ThrottleLockEntity, { key });
}

/** RATE_LIMITED with a retry-after hint in whole seconds. */
export function rateLimited(message: string, retryAfterMs: number): AppError {
  return new AppError(ErrorCode.RATE_LIMITED, message, { retryAfterSeconds: retryAfterSeconds(retryAfterMs) });
}

