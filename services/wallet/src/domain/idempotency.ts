import { createHash } from 'node:crypto';

type Json = string | number | boolean | null | undefined | Date | Json[] | { [k: string]: Json };

function canonical(value: Json): string {
  if (value === undefined || value === null) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined && value[k] !== null)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A fingerprint of a request's input (without its idempotency key): key order and absent versus
 * null optional fields do not change it, any value does. Same key + same fingerprint = a retry.
 */
export function requestFingerprint(input: { [k: string]: Json }): string {
  return createHash('sha256').update(canonical(input)).digest('hex');
}
