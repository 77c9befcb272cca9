import { beforeAll, describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { gql, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp, { env: { EMAIL_VERIFICATION_URL: 'https://shop.example/verify-email' } });
let admin: string;

const REQUEST = `mutation { requestEmailVerification { sentTo expiresAt retryAfter } }`;
const VERIFY = `mutation($t: String!) { verifyEmail(input: {token: $t}) { memberId email verifiedAt } }`;
const SENT = `query($to: String!) { sentMessages(to: $to) { channel to body } }`;
const VERIFIED_AT = `query($id: ID!) { member(id: $id) { email emailVerifiedAt } }`;

const rows = (sql: string, params: unknown[] = []) => svc.app.kit.ds.query(sql, params);
const count = async (sql: string, params: unknown[] = []) => Number((await rows(sql, params))[0].n);
const memberToken = (id: string) => tokenFor([Role.MEMBER], { kind: 'member', sub: id });
const ext = (res: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => res.errors?.[0]?.extensions;

async function register(phone: string, email?: string): Promise<string> {
  const res = await gql(svc.url, `mutation($p: String!, $e: String) { registerMember(input: {phone: $p, name: "Tang Yi", channel: WEB, email: $e}) { id } }`, { p: phone, e: email }, admin);
  expect(res.errors).toBeUndefined();
  return res.data.registerMember.id;
}

/** The token of the newest link sent to `email`, read back from the local provider as ADMIN. */
async function linkToken(email: string): Promise<string> {
  const sent = await gql(svc.url, SENT, { to: email }, admin);
  expect(sent.data.sentMessages[0]).toMatchObject({ channel: 'EMAIL', to: email });
  const match = /https:\/\/shop\.example\/verify-email\?token=([A-Za-z0-9_-]{43})\b/.exec(sent.data.sentMessages[0].body);
  expect(match).not.toBeNull();
  return match![1]!;
}

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
});

describe('email verification link', () => {
  let id: string;
  let token: string;

  beforeAll(async () => {
    id = await register('+8613400000001', 'Tang.Yi@Example.com');
  });

  it('emails the member a link with a single-use token stored only as a keyed hash, valid 24 hours', async () => {
    const before = Date.now();
    const res = await gql(svc.url, REQUEST, undefined, await memberToken(id));
    expect(res.errors).toBeUndefined();
    expect(res.data.requestEmailVerification.sentTo).toBe('tang.yi@example.com');
    expect(new Date(res.data.requestEmailVerification.expiresAt).getTime() - before).toBeGreaterThanOrEqual(24 * 3600_000 - 1000);
    token = await linkToken('tang.yi@example.com');
    expect(JSON.stringify(await rows('SELECT * FROM email_verification'))).not.toContain(token);
    expect((await gql(svc.url, VERIFIED_AT, { id }, await memberToken(id))).data.member.emailVerifiedAt).toBeNull();
  });

  it('throttles requests per member (one a minute by default): RATE_LIMITED with a retry-after hint', async () => {
    const again = await gql(svc.url, REQUEST, undefined, await memberToken(id));
    expect(ext(again)).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    expect(await count('SELECT COUNT(*) AS n FROM email_verification WHERE member_id = ?', [id])).toBe(1);
  });

  it('verifies the email with the link’s token, without a login, once', async () => {
    const res = await gql(svc.url, VERIFY, { t: token });
    expect(res.errors).toBeUndefined();
    expect(res.data.verifyEmail).toEqual({ memberId: id, email: 't****@example.com', verifiedAt: expect.any(String) });
    expect((await gql(svc.url, VERIFIED_AT, { id }, await memberToken(id))).data.member.emailVerifiedAt).toBe(res.data.verifyEmail.verifiedAt);
    expect(ext(await gql(svc.url, VERIFY, { t: token }))).toMatchObject({ code: 'UNAUTHENTICATED', field: 'token', reason: 'USED' });
    expect(ext(await gql(svc.url, REQUEST, undefined, await memberToken(id)))).toMatchObject({ code: 'CONFLICT', reason: 'ALREADY_VERIFIED' });
  });

  it('clears the verification when the email changes; a link sent to the old address is STALE', async () => {
    const other = await register('+8613400000002', 'old@example.com');
    const self = await memberToken(other);
    expect((await gql(svc.url, REQUEST, undefined, self)).errors).toBeUndefined();
    const oldToken = await linkToken('old@example.com');
    const changed = await gql(svc.url, `mutation($m: ID!) { updateProfile(input: {memberId: $m, email: "new@example.com"}) { email emailVerifiedAt } }`, { m: other }, self);
    expect(changed.data.updateProfile).toEqual({ email: 'new@example.com', emailVerifiedAt: null });
    expect(ext(await gql(svc.url, VERIFY, { t: oldToken }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'STALE' });

    // The verified member of the first test changes address too: verification starts over.
    await gql(svc.url, `mutation($m: ID!) { updateProfile(input: {memberId: $m, email: "tang.yi@example.org"}) { id } }`, { m: id }, await memberToken(id));
    expect((await gql(svc.url, VERIFIED_AT, { id }, admin)).data.member.emailVerifiedAt).toBeNull();
  });

  it('clears the verification when an import replaces the email with newer data', async () => {
    const mid = await register('+8613400000003', 'imp@example.com');
    await rows('UPDATE member SET email_verified_at = NOW(3) WHERE id = ?', [mid]);
    // A row newer than the profile (registered just before) replaces the address.
    const now = new Date().toISOString();
    const merged = await gql(svc.url, `mutation($u: String!) { importMembers(input: {rows: [{phone: "+8613400000003", name: "Tang Yi", email: "imp2@example.com", updatedAt: $u}]}) { merged } }`, { u: now }, admin);
    expect(merged.data.importMembers.merged).toBe(1);
    expect((await gql(svc.url, VERIFIED_AT, { id: mid }, admin)).data.member).toEqual({ email: 'imp2@example.com', emailVerifiedAt: null });
  });

  it('refuses an expired link with EXPIRED', async () => {
    const mid = await register('+8613400000004', 'late@example.com');
    await gql(svc.url, REQUEST, undefined, await memberToken(mid));
    const late = await linkToken('late@example.com');
    await rows('UPDATE email_verification SET expires_at = NOW(3) - INTERVAL 1 SECOND WHERE member_id = ?', [mid]);
    expect(ext(await gql(svc.url, VERIFY, { t: late }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'EXPIRED' });
    expect((await gql(svc.url, VERIFIED_AT, { id: mid }, admin)).data.member.emailVerifiedAt).toBeNull();
  });

  it('rejects a malformed token with BAD_USER_INPUT and an unknown one with UNAUTHENTICATED, writing nothing', async () => {
    const before = await count('SELECT COUNT(*) AS n FROM email_verification WHERE consumed_at IS NOT NULL');
    expect(ext(await gql(svc.url, VERIFY, { t: 'abc' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
    expect(ext(await gql(svc.url, VERIFY, { t: 'A'.repeat(43) }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INVALID' });
    expect(await count('SELECT COUNT(*) AS n FROM email_verification WHERE consumed_at IS NOT NULL')).toBe(before);
  });

  it('is asked for by the member only, for an email on file', async () => {
    const noEmail = await register('+8613400000005');
    expect(ext(await gql(svc.url, REQUEST, undefined, await memberToken(noEmail)))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
    expect(ext(await gql(svc.url, REQUEST, undefined, admin))?.code).toBe('FORBIDDEN');
    expect(ext(await gql(svc.url, REQUEST))?.code).toBe('UNAUTHENTICATED');
    expect(await count('SELECT COUNT(*) AS n FROM email_verification WHERE member_id = ?', [noEmail])).toBe(0);
  });

  it('is gone with the member on erasure', async () => {
    const mid = await register('+8613400000006', 'gone@example.com');
    await gql(svc.url, REQUEST, undefined, await memberToken(mid));
    const gone = await linkToken('gone@example.com');
    const erased = await gql(svc.url, `mutation($m: ID!) { eraseMember(input: {memberId: $m, reason: "leaving"}) { status emailVerifiedAt } }`, { m: mid }, admin);
    expect(erased.data.eraseMember).toEqual({ status: 'ERASED', emailVerifiedAt: null });
    expect(await count('SELECT COUNT(*) AS n FROM email_verification WHERE member_id = ?', [mid])).toBe(0);
    expect(ext(await gql(svc.url, VERIFY, { t: gone }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INVALID' });
  });
});
