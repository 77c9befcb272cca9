import { beforeAll, describe, expect, it } from 'vitest';
import { Bus, callRequest, createLogger, Role } from '@membergraph/platform';
import { MemberRpc, type VerifyOtpReply } from '@membergraph/contracts';
import { serviceUnderTest, tokenFor, type GqlResult } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp, { env: { ADMIN_PASSWORD: 'correct horse battery', OTP_IP_PER_HOUR: '6' } });
let admin: string;
let ipSeq = 0;

/** Each test speaks from its own address (the last X-Forwarded-For entry), so the per-IP throttle is the test's own. */
const newIp = () => `203.0.113.${++ipSeq}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call<T = any>(query: string, variables: Record<string, unknown> = {}, opts: { token?: string; ip?: string } = {}): Promise<GqlResult<T>> {
  const res = await fetch(svc.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.ip ? { 'x-forwarded-for': opts.ip } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { ...((await res.json()) as object), status: res.status } as GqlResult<T>;
}

const REQUEST_OTP = `mutation($input: RequestOtpInput!) { requestOtp(input: $input) { expiresAt retryAfter } }`;
const SENT = `query($to: String!) { sentMessages(to: $to) { channel to body sentAt } }`;
const REGISTER = `mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id phone name email birthday channel } }`;
const LOGIN = `mutation($input: MemberLoginInput!) { memberLogin(input: $input) { token expiresAt } }`;
const ME = `{ me { id phone name email birthday status } }`;

async function otpFor(phone: string, purpose: string, ip = newIp(), token?: string): Promise<string> {
  const res = await call(REQUEST_OTP, { input: { phone, purpose } }, { ip, token });
  expect(res.errors).toBeUndefined();
  const sent = await call(SENT, { to: phone }, { token: admin });
  const code = /\b(\d{6})\b/.exec(sent.data.sentMessages[0].body)?.[1];
  expect(code).toBeDefined();
  return code!;
}

const count = async (sql: string) => Number((await svc.app.kit.ds.query(sql))[0].n);

beforeAll(async () => {
  const login = await call(`mutation { staffLogin(input: {username: "admin", password: "correct horse battery"}) { token } }`);
  admin = login.data.staffLogin.token;
});

describe('local message provider', () => {
  it('records the SMS a code request sends, encrypted at rest, readable by ADMIN only, newest first', async () => {
    const phone = '+8613700000001';
    await call(REQUEST_OTP, { input: { phone, purpose: 'REGISTER' } }, { ip: newIp() });
    await call(REQUEST_OTP, { input: { phone: '137 0000 0001', purpose: 'LOGIN' } }, { ip: newIp() });
    // LOGIN codes go to members only: nothing more was sent, the answer was the same.
    const sent = await call(SENT, { to: '13700000001' }, { token: admin });
    expect(sent.errors).toBeUndefined();
    expect(sent.data.sentMessages).toHaveLength(1);
    expect(sent.data.sentMessages[0]).toMatchObject({ channel: 'SMS', to: phone, body: expect.stringMatching(/register code is \d{6}\b/) });

    const rows = JSON.stringify(await svc.app.kit.ds.query('SELECT * FROM sent_message'));
    expect(rows).not.toContain('13700000001');
    expect(rows).not.toMatch(/code is/);

    const support = await tokenFor([Role.SUPPORT]);
    expect((await call(SENT, { to: phone }, { token: support })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call(SENT, { to: phone })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await call(SENT, { to: 'nobody' }, { token: admin })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
  });
});

describe('requestOtp', () => {
  it('stores only a keyed hash of the code, valid for 5 minutes', async () => {
    const before = Date.now();
    const res = await call(REQUEST_OTP, { input: { phone: '13700000002', purpose: 'REGISTER' } }, { ip: newIp() });
    expect(new Date(res.data.requestOtp.expiresAt).getTime() - before).toBeGreaterThanOrEqual(299_000);
    expect(new Date(res.data.requestOtp.retryAfter).getTime() - before).toBeGreaterThanOrEqual(59_000);
    const code = /(\d{6})/.exec((await call(SENT, { to: '13700000002' }, { token: admin })).data.sentMessages[0].body)![1]!;
    const rows = JSON.stringify(await svc.app.kit.ds.query('SELECT * FROM otp_code'));
    expect(rows).not.toContain(code);
    expect(rows).not.toContain('13700000002');
  });

  it('sends one code a minute per phone and purpose: RATE_LIMITED with a retry-after hint', async () => {
    const phone = '13700000003';
    await otpFor(phone, 'REGISTER');
    const again = await call(REQUEST_OTP, { input: { phone, purpose: 'REGISTER' } }, { ip: newIp() });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    expect(again.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(50);
  });

  it('counts concurrent requests one by one: parallel requests and aliases send one code', async () => {
    const phone = '+8613700000004';
    const parallel = await Promise.all(Array.from({ length: 5 }, () => call(REQUEST_OTP, { input: { phone, purpose: 'REGISTER' } }, { ip: newIp() })));
    expect(parallel.filter((r) => r.errors?.[0]?.extensions?.code === 'RATE_LIMITED')).toHaveLength(4);
    const aliased = `mutation { ${Array.from({ length: 5 }, (_, i) => `a${i}: requestOtp(input: {phone: "${phone}", purpose: LOGIN}) { expiresAt }`).join(' ')} }`;
    // Root mutation fields run one after the other; the first refusal (non-null result) ends the operation.
    expect((await call(aliased, {}, { ip: newIp() })).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect((await call(SENT, { to: phone }, { token: admin })).data.sentMessages).toHaveLength(1);
  });

  it('throttles per IP (OTP_IP_PER_HOUR=6 here) across different phones', async () => {
    const ip = newIp();
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await call(REQUEST_OTP, { input: { phone: `1360000001${i}`, purpose: 'REGISTER' } }, { ip }));
    expect(results.slice(0, 6).every((r) => !r.errors)).toBe(true);
    expect(results[6]!.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
  });

  it('rejects a malformed phone with BAD_USER_INPUT and writes nothing', async () => {
    const before = await count('SELECT COUNT(*) AS n FROM otp_code');
    const res = await call(REQUEST_OTP, { input: { phone: '12345', purpose: 'LOGIN' } }, { ip: newIp() });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'phone' });
    expect(await count('SELECT COUNT(*) AS n FROM otp_code')).toBe(before);
  });

  it('gives PAYMENT codes only to the member themself or staff', async () => {
    const res = await call(REQUEST_OTP, { input: { phone: '13700000005', purpose: 'PAYMENT' } }, { ip: newIp() });
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const stranger = await tokenFor([Role.MEMBER], { kind: 'member', sub: '01STRANGER0000000000000000' });
    const other = await call(REQUEST_OTP, { input: { phone: '13700000005', purpose: 'PAYMENT' } }, { ip: newIp(), token: stranger });
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('self-registration and member login', () => {
  const phone = '+8613700000100';
  let memberId: string;

  it('needs a REGISTER code without a staff token, and a self-service channel', async () => {
    const input = { phone, name: 'Li Lei', channel: 'APP' };
    expect((await call(REGISTER, { input })).errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', field: 'otp' });
    const store = await call(REGISTER, { input: { ...input, channel: 'STORE', otp: '123456' } });
    expect(store.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'channel' });
    const shape = await call(REGISTER, { input: { ...input, otp: '12ab' } });
    expect(shape.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'otp' });
    for (const [field, bad] of [['email', 'nope'], ['birthday', '1990-13-01'], ['name', '']] as const) {
      const res = await call(REGISTER, { input: { ...input, otp: '123456', [field]: bad } });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(await count('SELECT COUNT(*) AS n FROM member')).toBe(0);
  });

  it('registers with a valid code, with birthday and email encrypted, and the code works once', async () => {
    const otp = await otpFor(phone, 'REGISTER');
    const wrongPurpose = await call(LOGIN, { input: { phone, otp } });
    expect(wrongPurpose.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const input = { phone, name: 'Li Lei', channel: 'APP', otp, email: 'LiLei@Example.com', birthday: '1990-05-17' };
    const res = await call(REGISTER, { input });
    expect(res.errors).toBeUndefined();
    // An anonymous caller sees what it registered masked.
    expect(res.data.registerMember).toMatchObject({ phone: '+86137****0100', email: 'l****@example.com', birthday: null, channel: 'APP' });
    memberId = res.data.registerMember.id;
    const rows = JSON.stringify(await svc.app.kit.ds.query('SELECT * FROM member'));
    expect(rows).not.toMatch(/lilei@example\.com|1990-05-17/i);
    expect(await svc.app.kit.ds.query(`SELECT actor, action FROM audit_log WHERE target = '${memberId}'`)).toEqual([{ actor: 'self', action: 'member.register' }]);

    const replay = await call(REGISTER, { input: { ...input, phone: '13700000101' } });
    expect(replay.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers a second registration of the phone with CONFLICT and a hint to log in', async () => {
    const res = await call(REGISTER, { input: { phone, name: 'Again', channel: 'WEB' } }, { token: admin });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'phone', hint: 'memberLogin' });
    expect(res.errors?.[0]?.message).toMatch(/log in/);
    const email = await call(REGISTER, { input: { phone: '13700000102', name: 'Han', channel: 'WEB', email: 'lilei@example.com' } }, { token: admin });
    expect(email.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'email' });
  });

  it('logs the member in with a LOGIN code; me shows their own data in clear', async () => {
    const otp = await otpFor(phone, 'LOGIN');
    const login = await call(LOGIN, { input: { phone, otp } });
    expect(login.errors).toBeUndefined();
    const me = await call(ME, {}, { token: login.data.memberLogin.token });
    expect(me.data.me).toEqual({ id: memberId, phone, name: 'Li Lei', email: 'lilei@example.com', birthday: '1990-05-17', status: 'ACTIVE' });
    expect((await call(LOGIN, { input: { phone, otp } })).errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'USED' });
    expect((await call(ME, {}, { token: admin })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call(ME)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('burns a code after 5 wrong tries, counted in the database even for parallel tries', async () => {
    const other = '+8613700000150';
    await call(REGISTER, { input: { phone: other, name: 'Zhou', channel: 'STORE' } }, { token: admin });
    const otp = await otpFor(other, 'LOGIN');
    const wrong = otp === '000000' ? '000001' : '000000';
    const tries = await Promise.all(Array.from({ length: 8 }, () => call(LOGIN, { input: { phone: other, otp: wrong } })));
    const reasons = tries.map((t) => t.errors?.[0]?.extensions?.reason).sort();
    expect(reasons).toEqual([...Array(3).fill('BURNED'), ...Array(5).fill('MISMATCH')]);
    expect((await call(LOGIN, { input: { phone: other, otp } })).errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'BURNED' });
    expect(await svc.app.kit.ds.query(`SELECT attempts FROM otp_code WHERE purpose = 'LOGIN' ORDER BY id DESC LIMIT 1`)).toEqual([{ attempts: 5 }]);
  });

  it('refuses FROZEN, BLACKLISTED and ERASED members with FORBIDDEN, after the code is checked', async () => {
    for (const [i, status] of ['FROZEN', 'BLACKLISTED', 'ERASED'].entries()) {
      const other = `+861370000020${i}`;
      const reg = await call(REGISTER, { input: { phone: other, name: 'Wang', channel: 'STORE' } }, { token: admin });
      const otp = await otpFor(other, 'LOGIN');
      await svc.app.kit.ds.query(`UPDATE member SET status = ? WHERE id = ?`, [status, reg.data.registerMember.id]);
      const wrong = await call(LOGIN, { input: { phone: other, otp: otp === '000000' ? '000001' : '000000' } });
      expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await call(LOGIN, { input: { phone: other, otp } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });
});

describe('staff users and API clients', () => {
  const CREATE_STAFF = `mutation($input: CreateStaffUserInput!) { createStaffUser(input: $input) { id username roles status } }`;
  const STAFF_LOGIN = `mutation($u: String!, $p: String!) { staffLogin(input: {username: $u, password: $p}) { token } }`;

  it('lets ADMIN create staff users with a password policy and staff roles only, audited', async () => {
    const good = { username: 'clerk.one', password: 'long enough pw', roles: ['OPERATOR', 'SUPPORT'] };
    const res = await call(CREATE_STAFF, { input: good }, { token: admin });
    expect(res.errors).toBeUndefined();
    expect(res.data.createStaffUser).toMatchObject({ username: 'clerk.one', roles: ['OPERATOR', 'SUPPORT'], status: 'ACTIVE' });
    const audited = await svc.app.kit.ds.query(`SELECT action FROM audit_log WHERE target = ?`, [res.data.createStaffUser.id]);
    expect(audited).toEqual([{ action: 'staff.create' }]);

    const before = await count('SELECT COUNT(*) AS n FROM staff_user');
    for (const [field, bad] of [['password', { password: 'short' }], ['roles', { roles: ['MEMBER'] }], ['roles', { roles: [] }], ['username', { username: 'No Spaces' }]] as const) {
      const r = await call(CREATE_STAFF, { input: { ...good, username: 'clerk.two', ...bad } }, { token: admin });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect((await call(CREATE_STAFF, { input: good }, { token: admin })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'username' });
    const operator = await tokenFor([Role.OPERATOR]);
    expect((await call(CREATE_STAFF, { input: { ...good, username: 'clerk.three' } }, { token: operator })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await count('SELECT COUNT(*) AS n FROM staff_user')).toBe(before);

    const login = await call(STAFF_LOGIN, { u: 'clerk.one', p: 'long enough pw' });
    expect(login.errors).toBeUndefined();
  });

  it('throttles staffLogin per username and IP after 5 failures in 15 minutes, parallel tries included', async () => {
    const ip = newIp();
    const tries = await Promise.all(Array.from({ length: 7 }, () => call(STAFF_LOGIN, { u: 'clerk.one', p: 'wrong password!' }, { ip })));
    const codes = tries.map((t) => t.errors?.[0]?.extensions?.code).sort();
    expect(codes).toEqual(['RATE_LIMITED', 'RATE_LIMITED', ...Array(5).fill('UNAUTHENTICATED')]);
    const right = await call(STAFF_LOGIN, { u: 'clerk.one', p: 'long enough pw' }, { ip });
    expect(right.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    // Another address is not locked out by someone else's failures.
    expect((await call(STAFF_LOGIN, { u: 'clerk.one', p: 'long enough pw' }, { ip: newIp() })).errors).toBeUndefined();
  });

  it('creates API clients whose secret is shown once and stored hashed; clientToken carries the scopes', async () => {
    const created = await call(`mutation { createApiClient(input: {name: "erp", scopes: ["orders:write", "members:read"]}) { clientId secret name scopes } }`, {}, { token: admin });
    expect(created.errors).toBeUndefined();
    const { clientId, secret } = created.data.createApiClient;
    expect(JSON.stringify(await svc.app.kit.ds.query('SELECT * FROM api_client'))).not.toContain(secret);
    expect(await svc.app.kit.ds.query(`SELECT action FROM audit_log WHERE target = ?`, [clientId])).toEqual([{ action: 'api_client.create' }]);

    const TOKEN = `mutation($c: ID!, $s: String!) { clientToken(input: {clientId: $c, secret: $s}) { token expiresAt } }`;
    const token = (await call(TOKEN, { c: clientId, s: secret })).data.clientToken.token;
    const members = await call(`{ members(first: 1) { edges { node { id } } } }`, {}, { token });
    expect(members.errors).toBeUndefined();
    const staffOnly = await call(`mutation { createApiClient(input: {name: "x", scopes: ["a:b"]}) { clientId } }`, {}, { token });
    expect(staffOnly.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call(TOKEN, { c: clientId, s: `${secret}x` })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const bad = await call(`mutation { createApiClient(input: {name: "x", scopes: ["everything"]}) { clientId } }`, {}, { token: admin });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'scopes' });
  });
});

describe('rpc.member.verify_otp', () => {
  it('verifies and consumes a PAYMENT code once, refusing other purposes and wrong codes', async () => {
    const phone = '+8613700000300';
    const reg = await call(REGISTER, { input: { phone, name: 'Zhao', channel: 'STORE' } }, { token: admin });
    const memberId: string = reg.data.registerMember.id;
    const self = await tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });
    const code = await otpFor(phone, 'PAYMENT', newIp(), self);

    const bus = await Bus.connect({ url: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', prefix: svc.scope.prefix, name: 'wallet-probe', log: createLogger('t', 'silent') });
    try {
      const ask = (req: unknown) => callRequest<unknown, VerifyOtpReply>(bus, MemberRpc.VerifyOtp, req);
      expect(await ask({ memberId, purpose: 'LOGIN', code })).toEqual({ ok: false, reason: 'PURPOSE_NOT_ALLOWED' });
      expect(await ask({ memberId, purpose: 'PAYMENT' })).toEqual({ ok: false, reason: 'INVALID_REQUEST' });
      expect(await ask({ memberId, purpose: 'PAYMENT', code: code === '000000' ? '000001' : '000000' })).toEqual({ ok: false, reason: 'MISMATCH' });
      expect(await ask({ phone: '137 0000 0300', purpose: 'PAYMENT', code })).toEqual({ ok: true, reason: null });
      expect(await ask({ memberId, purpose: 'PAYMENT', code })).toEqual({ ok: false, reason: 'USED' });
      expect(await ask({ memberId: 'nobody', purpose: 'PAYMENT', code })).toEqual({ ok: false, reason: 'NO_CODE' });
    } finally {
      await bus.close();
    }
  });
});
