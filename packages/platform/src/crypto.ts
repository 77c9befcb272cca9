import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, opts: object) => Promise<Buffer>;

/** Parses a 32-byte key given as base64 or 64 hex characters. */
export function parseKey(value: string): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (key.length !== 32) throw new Error('key must be 32 bytes (base64 or hex)');
  return key;
}

/** AES-256-GCM: returns iv | tag | ciphertext as base64. `aad` binds the value to its owner. */
export function encrypt(key: Buffer, plaintext: string, aad = ''): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64');
}

/** Inverse of `encrypt`; throws if the value was tampered with or the key is wrong. */
export function decrypt(key: Buffer, sealed: string, aad = ''): string {
  const raw = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

/** A fresh data key wrapped (encrypted) under the master key; the master key never reaches the database. */
export function newWrappedDataKey(masterKey: Buffer, owner: string): { key: Buffer; wrapped: string } {
  const key = randomBytes(32);
  return { key, wrapped: encrypt(masterKey, key.toString('base64'), `dek:${owner}`) };
}

export function unwrapDataKey(masterKey: Buffer, wrapped: string, owner: string): Buffer {
  return Buffer.from(decrypt(masterKey, wrapped, `dek:${owner}`), 'base64');
}

/** Keyed blind index (HMAC-SHA256) for equality lookups on encrypted values. */
export function blindIndex(indexKey: Buffer, normalisedValue: string): string {
  return createHmac('sha256', indexKey).update(normalisedValue).digest('hex');
}

/** Password hash with scrypt and a random salt: `scrypt$N$r$p$salt$hash`. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const [N, r, p] = [16384, 8, 1];
  const hash = await scrypt(secret, salt, 32, { N, r, p });
  return ['scrypt', N, r, p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Constant-time check of a secret against `hashSecret`'s output. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(secret, Buffer.from(salt, 'base64'), expected.length, { N: Number(N), r: Number(r), p: Number(p) });
  return timingSafeEqual(expected, actual);
}
