import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import {
  ADMIN_ONLY,
  ConfigError,
  badField,
  backoffFor,
  baseConfigSchema,
  serviceConfigSchema,
  blindIndex,
  createEnvelope,
  decodeCursor,
  decodeEnvelope,
  decrypt,
  encodeCursor,
  encodeEnvelope,
  encrypt,
  hashSecret,
  isDuplicateKey,
  isRetryableDbError,
  loadConfig,
  newWrappedDataKey,
  pageSize,
  parseKey,
  retryDelayMs,
  signToken,
  toConnection,
  unwrapDataKey,
  verifySecret,
  verifyToken,
  requireMemberAccess,
  requirePermission,
  requestFingerprint,
  Role,
} from '../src/index';

describe('event envelope', () => {
  it('round-trips every field and gives each event its own sortable id', () => {
    const a = createEnvelope({ type: 'member.registered', source: 'member', subject: 'm1', data: { memberId: 'm1' }, traceparent: '00-abc-def-01' });
    const b = createEnvelope({ type: 'member.registered', source: 'member', subject: 'm1', data: {} });
    expect(decodeEnvelope(encodeEnvelope(a))).toEqual(a);
    expect(a.version).toBe(1);
    expect(b.id > a.id).toBe(true);
  });

  it('rejects a malformed envelope as poison', () => {
    expect(() => decodeEnvelope('{"id":"x"}')).toThrow();
    expect(() => decodeEnvelope('not json')).toThrow();
    expect(() => decodeEnvelope(JSON.stringify({ ...createEnvelope({ type: 'member.registered', source: 's', subject: 'x', data: 1 }), type: 'NoDots' }))).toThrow();
  });
});

describe('retry rules', () => {
  it('retries deadlocks and lock wait timeouts, nothing else', () => {
    expect(isRetryableDbError({ errno: 1213 })).toBe(true);
    expect(isRetryableDbError({ driverError: { errno: 1205 } })).toBe(true);
    expect(isRetryableDbError({ errno: 1062 })).toBe(false);
    expect(isRetryableDbError(new Error('boom'))).toBe(false);
    expect(isDuplicateKey({ driverError: { errno: 1062 } })).toBe(true);
  });

  it('backs off within an exponential ceiling that is capped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const d = retryDelayMs(attempt, 10, 500, () => r);
        return d >= 0 && d < Math.min(500, 10 * 2 ** (attempt - 1));
      }),
    );
  });

  it('redelivers with the configured backoff, repeating the last step', () => {
    expect(backoffFor(1, [10, 20, 30])).toBe(10);
    expect(backoffFor(3, [10, 20, 30])).toBe(30);
    expect(backoffFor(9, [10, 20, 30])).toBe(30);
  });
});

describe('config', () => {
  it('fails fast naming every bad variable', () => {
    const schema = baseConfigSchema.and(z.object({ PORT: z.coerce.number().int() }));
    try {
      loadConfig(schema, { PORT: 'abc', JWT_SECRET: 'short' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain('PORT');
      expect((err as Error).message).toContain('JWT_SECRET');
    }
  });

  it('refuses the development JWT secret in production', () => {
    expect(() => loadConfig(baseConfigSchema, { NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
  });

  it('gives every service a pool size and consumer concurrency, tunable by env within bounds', () => {
    const schema = serviceConfigSchema({ port: 4100, database: 'x' }, {});
    expect(loadConfig(schema, {})).toMatchObject({ DB_POOL_SIZE: 10, CONSUMER_CONCURRENCY: 8 });
    expect(loadConfig(schema, { DB_POOL_SIZE: '40', CONSUMER_CONCURRENCY: '32' })).toMatchObject({ DB_POOL_SIZE: 40, CONSUMER_CONCURRENCY: 32 });
    expect(() => loadConfig(schema, { CONSUMER_CONCURRENCY: '0' })).toThrow(/CONSUMER_CONCURRENCY/);
  });
});

describe('crypto', () => {
  const master = parseKey('a'.repeat(64));
  it('encrypts with AES-256-GCM and detects tampering or a wrong owner', () => {
    const sealed = encrypt(master, '+8613800000001', 'm1');
    expect(sealed).not.toContain('138');
    expect(decrypt(master, sealed, 'm1')).toBe('+8613800000001');
    expect(() => decrypt(master, sealed, 'm2')).toThrow();
    const bytes = Buffer.from(sealed, 'base64');
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    expect(() => decrypt(master, bytes.toString('base64'), 'm1')).toThrow();
  });

  it('wraps a per-owner data key under the master key', () => {
    const { key, wrapped } = newWrappedDataKey(master, 'm1');
    expect(unwrapDataKey(master, wrapped, 'm1').equals(key)).toBe(true);
  });

  it('computes a stable keyed blind index', () => {
    expect(blindIndex(master, 'x')).toBe(blindIndex(master, 'x'));
    expect(blindIndex(master, 'x')).not.toBe(blindIndex(parseKey('b'.repeat(64)), 'x'));
  });

  it('hashes secrets with a salt and verifies them', async () => {
    const h = await hashSecret('s3cret');
    expect(h).not.toBe(await hashSecret('s3cret'));
    expect(await verifySecret('s3cret', h)).toBe(true);
    expect(await verifySecret('wrong', h)).toBe(false);
  });
});

describe('auth', () => {
  const settings = { secret: 'x'.repeat(40), issuer: 'membergraph' };
  it('verifies its own tokens and refuses forged ones', async () => {
    const { token } = await signToken(settings, { sub: 'u1', kind: 'staff', roles: [Role.SUPPORT], scopes: [] }, 60);
    expect(await verifyToken(settings, token)).toMatchObject({ sub: 'u1', roles: ['SUPPORT'] });
    await expect(verifyToken({ ...settings, secret: 'y'.repeat(40) }, token)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('lets ADMIN do everything, members only their own data', () => {
    const admin = { principal: { sub: 'a', kind: 'staff' as const, roles: [Role.ADMIN], scopes: [] }, requestId: 'r' };
    const member = { principal: { sub: 'm1', kind: 'member' as const, roles: [Role.MEMBER], scopes: [] }, requestId: 'r' };
    const client = { principal: { sub: 'c', kind: 'client' as const, roles: [Role.INTEGRATION], scopes: ['orders:write'] }, requestId: 'r' };
    expect(requirePermission(admin, { roles: [Role.FINANCE] }).sub).toBe('a');
    expect(() => requirePermission(member, { roles: [Role.FINANCE] })).toThrow(/Not allowed/);
    expect(requirePermission(client, { scopes: ['orders:write'] }).sub).toBe('c');
    expect(requireMemberAccess(member, 'm1', { roles: [] }).sub).toBe('m1');
    expect(() => requireMemberAccess(member, 'm2', { roles: [] })).toThrow(/Not allowed/);
    expect(() => requirePermission({ principal: null, requestId: 'r' }, {})).toThrow(/Authentication/);
  });

  it('lets only ADMIN through ADMIN_ONLY, whatever other roles or scopes a caller holds', () => {
    const as = (roles: Role[], kind: 'staff' | 'client' = 'staff', scopes: string[] = []) => ({ principal: { sub: 'x', kind, roles, scopes }, requestId: 'r' });
    expect(requirePermission(as([Role.ADMIN]), ADMIN_ONLY).sub).toBe('x');
    for (const other of [as([Role.OPERATOR, Role.SUPPORT, Role.FINANCE, Role.ANALYST]), as([Role.INTEGRATION], 'client', ['*', 'admin'])]) {
      expect(() => requirePermission(other, ADMIN_ONLY)).toThrow(/Not allowed/);
    }
  });
});

describe('errors', () => {
  it('names the bad input field in extensions.field', () => {
    expect(badField('amount', 'amount must be positive').extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'amount' });
    expect(badField('tiers[0].bonus', 'tiers[0].bonus too big', { defects: [1] })).toMatchObject({ message: 'tiers[0].bonus too big', extensions: { code: 'BAD_USER_INPUT', field: 'tiers[0].bonus', defects: [1] } });
  });
});

describe('requestFingerprint', () => {
  it('ignores key order and absent versus null optional fields, and sees every value', () => {
    const a = requestFingerprint({ memberId: 'm', amount: 100, storeId: null });
    expect(requestFingerprint({ amount: 100, memberId: 'm' })).toBe(a);
    expect(requestFingerprint({ amount: 101, memberId: 'm' })).not.toBe(a);
    expect(requestFingerprint({ amount: 100, memberId: 'm', storeId: 's1' })).not.toBe(a);
    expect(requestFingerprint({ amount: '100', memberId: 'm' })).not.toBe(a);
  });

  it('sorts keys at every level and keeps array order', () => {
    expect(requestFingerprint({ x: { b: 1, a: [2, { d: 1, c: null }] } })).toBe(requestFingerprint({ x: { a: [2, { d: 1 }], b: 1 } }));
    expect(requestFingerprint({ a: [1, 2] })).not.toBe(requestFingerprint({ a: [2, 1] }));
    expect(requestFingerprint({ at: new Date('2025-01-01T00:00:00Z') })).toBe(requestFingerprint({ at: '2025-01-01T00:00:00.000Z' }));
  });
});

describe('connections', () => {
  it('pages with an opaque cursor and tells whether more follow', () => {
    const rows = ['e', 'd', 'c'];
    const page = toConnection(rows, 2, (r) => r);
    expect(page.edges.map((e) => e.node)).toEqual(['e', 'd']);
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(decodeCursor(page.pageInfo.endCursor)).toBe('d');
    expect(decodeCursor(encodeCursor('01H'))).toBe('01H');
    expect(() => decodeCursor('garbage')).toThrow(/cursor/);
    expect(() => pageSize(0)).toThrow();
    expect(() => pageSize(101)).toThrow();
  });
});
