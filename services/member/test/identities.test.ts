import { beforeAll, describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { gql, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { depsOf } from '../src/services/deps';

const svc = serviceUnderTest('member', createApp);
let admin: string;

const BIND = `mutation($input: BindIdentityInput!) { bindIdentity(input: $input) { id identities { provider openId unionId boundAt } } }`;
const LOGIN = `mutation($input: SocialLoginInput!) { socialLogin(input: $input) { token expiresAt } }`;
const IDENTITIES = `query($id: ID!) { member(id: $id) { identities { provider openId unionId } } }`;
const SENT = `query($to: String!, $channel: MessageChannel) { sentMessages(to: $to, channel: $channel) { channel to body } }`;

const rows = (sql: string, params: unknown[] = []) => svc.app.kit.ds.query(sql, params);
const count = async (sql: string, params: unknown[] = []) => Number((await rows(sql, params))[0].n);
const memberToken = (id: string) => tokenFor([Role.MEMBER], { kind: 'member', sub: id });
const code = (res: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => res.errors?.[0]?.extensions;

async function register(phone: string, name = 'Ma Lan'): Promise<string> {
  const res = await gql(svc.url, `mutation($p: String!, $n: String!) { registerMember(input: {phone: $p, name: $n, channel: MINI_PROGRAM}) { id } }`, { p: phone, n: name }, admin);
  expect(res.errors).toBeUndefined();
  return res.data.registerMember.id;
}

/** Logs in with a local code and returns the member the token belongs to. */
async function socialLoginAs(provider: string, localCode: string): Promise<string> {
  const res = await gql(svc.url, LOGIN, { input: { provider, code: localCode } });
  expect(res.errors).toBeUndefined();
  const me = await gql(svc.url, `{ me { id } }`, undefined, res.data.socialLogin.token);
  return me.data.me.id;
}

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
});

describe('bindIdentity and socialLogin', () => {
  let a: string;
  let b: string;

  beforeAll(async () => {
    a = await register('+8613500000001');
    b = await register('+8613500000002');
  });

  it('answers a login with an account nobody bound with NOT_FOUND, a stable reason and a hint to bind', async () => {
    const res = await gql(svc.url, LOGIN, { input: { provider: 'WECHAT', code: 'local:oWxA0000000000000000000001' } });
    expect(code(res)).toMatchObject({ code: 'NOT_FOUND', field: 'code', reason: 'IDENTITY_NOT_BOUND', hint: 'bindIdentity' });
  });

  it('binds the account a code proves to the member themself, and the next social login finds them', async () => {
    const res = await gql(svc.url, BIND, { input: { provider: 'WECHAT', code: 'local:oWxA0000000000000000000001:uWx0000000000000000000001' } }, await memberToken(a));
    expect(res.errors).toBeUndefined();
    expect(res.data.bindIdentity.identities).toEqual([
      { provider: 'WECHAT', openId: 'oWxA0000000000000000000001', unionId: 'uWx0000000000000000000001', boundAt: expect.any(String) },
    ]);
    expect(await socialLoginAs('WECHAT', 'local:oWxA0000000000000000000001')).toBe(a);
    const [entry] = await rows("SELECT actor, detail FROM audit_log WHERE action = 'member.identity_bind' AND target = ?", [a]);
    expect({ actor: entry.actor, detail: JSON.parse(entry.detail) }).toEqual({ actor: a, detail: { provider: 'WECHAT', via: 'bindIdentity' } });
  });

  it('stores the account ids only as blind indexes and ciphertext under the member’s key', async () => {
    const stored = JSON.stringify(await rows('SELECT * FROM member_identity'));
    expect(stored).not.toContain('oWxA0000000000000000000001');
    expect(stored).not.toContain('uWx0000000000000000000001');
  });

  it('changes nothing when the same account is bound again', async () => {
    const res = await gql(svc.url, BIND, { input: { provider: 'WECHAT', code: 'local:oWxA0000000000000000000001' } }, await memberToken(a));
    expect(res.errors).toBeUndefined();
    expect(res.data.bindIdentity.identities).toHaveLength(1);
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'member.identity_bind' AND target = ?", [a])).toBe(1);
  });

  it('finds the member by unionId from another app of the same person, and binds that app too', async () => {
    expect(await socialLoginAs('WECHAT', 'local:oWxB0000000000000000000001:uWx0000000000000000000001')).toBe(a);
    const ids = (await gql(svc.url, IDENTITIES, { id: a }, await memberToken(a))).data.member.identities;
    expect(ids.map((i: { openId: string }) => i.openId)).toEqual(['oWxA0000000000000000000001', 'oWxB0000000000000000000001']);
    // The next login of that app finds it directly; the unionId is per provider family, so Alipay does not match it.
    expect(await socialLoginAs('WECHAT', 'local:oWxB0000000000000000000001')).toBe(a);
    expect(code(await gql(svc.url, LOGIN, { input: { provider: 'ALIPAY', code: 'local:2088000000000001:uWx0000000000000000000001' } }))).toMatchObject({ reason: 'IDENTITY_NOT_BOUND' });
  });

  it('refuses with CONFLICT an account or a person bound to another member, and one member holding two people, writing nothing', async () => {
    const before = await count('SELECT COUNT(*) AS n FROM member_identity');
    const tokenB = await memberToken(b);
    expect(code(await gql(svc.url, BIND, { input: { provider: 'WECHAT', code: 'local:oWxA0000000000000000000001' } }, tokenB))).toMatchObject({ code: 'CONFLICT', field: 'code', reason: 'IDENTITY_TAKEN' });
    expect(code(await gql(svc.url, BIND, { input: { provider: 'WECHAT', code: 'local:oWxC0000000000000000000001:uWx0000000000000000000001' } }, tokenB))).toMatchObject({ code: 'CONFLICT', reason: 'UNION_TAKEN' });
    expect(code(await gql(svc.url, BIND, { input: { provider: 'WECHAT', code: 'local:oWxD0000000000000000000001:uWx0000000000000000000002' } }, await memberToken(a)))).toMatchObject({ code: 'CONFLICT', reason: 'OTHER_ACCOUNT_BOUND' });
    expect(await count('SELECT COUNT(*) AS n FROM member_identity')).toBe(before);
  });

  it('lets staff bind for a given member (audited), and refuses everyone else', async () => {
    const operator = await tokenFor([Role.OPERATOR], { sub: 'operator-7' });
    const res = await gql(svc.url, BIND, { input: { provider: 'ALIPAY', code: 'local:2088000000000002', memberId: b } }, operator);
    expect(res.errors).toBeUndefined();
    // OPERATOR sees the account masked.
    expect(res.data.bindIdentity.identities).toEqual([{ provider: 'ALIPAY', openId: '2088****002', unionId: null, boundAt: expect.any(String) }]);
    const [entry] = await rows("SELECT actor, detail FROM audit_log WHERE action = 'member.identity_bind' AND target = ?", [b]);
    expect({ actor: entry.actor, detail: JSON.parse(entry.detail) }).toEqual({ actor: 'operator-7', detail: { provider: 'ALIPAY', via: 'bindIdentity' } });
    expect(await socialLoginAs('ALIPAY', 'local:2088000000000002')).toBe(b);

    const before = await count('SELECT COUNT(*) AS n FROM member_identity');
    const input = { provider: 'ALIPAY', code: 'local:2088000000000003', memberId: b };
    expect(code(await gql(svc.url, BIND, { input: { provider: 'ALIPAY', code: 'local:2088000000000003' } }, operator))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'memberId' });
    expect(code(await gql(svc.url, BIND, { input }, await tokenFor([Role.ANALYST])))?.code).toBe('FORBIDDEN');
    expect(code(await gql(svc.url, BIND, { input }, await memberToken(a)))?.code).toBe('FORBIDDEN');
    expect(code(await gql(svc.url, BIND, { input }, await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'crm', scopes: ['members:read'] })))?.code).toBe('FORBIDDEN');
    expect(code(await gql(svc.url, BIND, { input }))?.code).toBe('UNAUTHENTICATED');
    expect(await count('SELECT COUNT(*) AS n FROM member_identity')).toBe(before);
  });

  it('refuses a malformed code with BAD_USER_INPUT and one the provider does not accept with UNAUTHENTICATED', async () => {
    expect(code(await gql(svc.url, LOGIN, { input: { provider: 'WECHAT', code: '' } }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
    expect(code(await gql(svc.url, LOGIN, { input: { provider: 'WECHAT', code: 'oWxA0000000000000000000001' } }))).toMatchObject({ code: 'UNAUTHENTICATED', field: 'code', reason: 'INVALID_CODE' });
    expect(code(await gql(svc.url, BIND, { input: { provider: 'WECHAT', code: 'x'.repeat(513) } }, await memberToken(a)))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
  });
});

describe('who may log in socially and see identities', () => {
  it('refuses FROZEN and BLACKLISTED members with FORBIDDEN', async () => {
    for (const [i, status] of ['FROZEN', 'BLACKLISTED'].entries()) {
      const id = await register(`+861350000010${i}`);
      await gql(svc.url, BIND, { input: { provider: 'WECHAT', code: `local:oWxS${i}` } }, await memberToken(id));
      expect(await socialLoginAs('WECHAT', `local:oWxS${i}`)).toBe(id);
      const changed = await gql(svc.url, `mutation($m: ID!, $s: MemberStatus!) { changeMemberStatus(input: {memberId: $m, status: $s, reason: "test"}) { status } }`, { m: id, s: status }, admin);
      expect(changed.errors).toBeUndefined();
      expect(code(await gql(svc.url, LOGIN, { input: { provider: 'WECHAT', code: `local:oWxS${i}` } }))?.code).toBe('FORBIDDEN');
    }
  });

  it('shows account ids in clear to the member, ADMIN and SUPPORT (audited), masked to other read roles, to nobody else', async () => {
    const id = await register('+8613500000200');
    await gql(svc.url, BIND, { input: { provider: 'WECHAT', code: 'local:oWxP0000000000000000000001:uWxP000000000000000000001' } }, await memberToken(id));
    const support = await tokenFor([Role.SUPPORT], { sub: 'support-3' });
    expect((await gql(svc.url, IDENTITIES, { id }, support)).data.member.identities).toEqual([
      { provider: 'WECHAT', openId: 'oWxP0000000000000000000001', unionId: 'uWxP000000000000000000001' },
    ]);
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'member.pii_read' AND actor = 'support-3' AND target = ?", [id])).toBe(1);
    expect((await gql(svc.url, IDENTITIES, { id }, await tokenFor([Role.ANALYST]))).data.member.identities).toEqual([
      { provider: 'WECHAT', openId: 'oWxP****001', unionId: 'uWxP****001' },
    ]);
    expect(code(await gql(svc.url, IDENTITIES, { id }, await memberToken('01OTHERMEMBER0000000000000')))?.code).toBe('FORBIDDEN');
    const scoped = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'erp', scopes: ['orders:write'] });
    expect(code(await gql(svc.url, IDENTITIES, { id }, scoped))?.code).toBe('FORBIDDEN');
    const mine = await gql(svc.url, `{ myData { identities { provider openId unionId } } }`, undefined, await memberToken(id));
    expect(mine.data.myData.identities).toEqual([{ provider: 'WECHAT', openId: 'oWxP0000000000000000000001', unionId: 'uWxP000000000000000000001' }]);
  });
});

describe('WeChat template messages', () => {
  it('are recorded by the local provider like SMS and email, readable by ADMIN with channel WECHAT', async () => {
    const { messages } = depsOf(svc.app.kit);
    await messages.send({ channel: 'WECHAT', to: 'oWxM0000000000000000000001', templateId: 'TPL_POINTS', data: { first: 'Points arrived', keyword1: '120' }, url: 'https://shop.example/points' });
    const sent = await gql(svc.url, SENT, { to: 'oWxM0000000000000000000001', channel: 'WECHAT' }, admin);
    expect(sent.errors).toBeUndefined();
    expect(sent.data.sentMessages).toEqual([
      { channel: 'WECHAT', to: 'oWxM0000000000000000000001', body: '[template TPL_POINTS]\nfirst: Points arrived\nkeyword1: 120\nurl: https://shop.example/points' },
    ]);
    expect(JSON.stringify(await rows("SELECT * FROM sent_message WHERE channel = 'WECHAT'"))).not.toContain('oWxM0000000000000000000001');
    expect(code(await gql(svc.url, SENT, { to: 'not an openid', channel: 'WECHAT' }, admin))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    expect(code(await gql(svc.url, SENT, { to: 'oWxM0000000000000000000001', channel: 'WECHAT' }, await tokenFor([Role.SUPPORT])))?.code).toBe('FORBIDDEN');
  });
});

describe('erasure', () => {
  it('removes the member’s identities and the WeChat messages sent to them: the next social login finds nobody', async () => {
    const id = await register('+8613500000300');
    await gql(svc.url, BIND, { input: { provider: 'WECHAT', code: 'local:oWxE0000000000000000000001:uWxE000000000000000000001' } }, await memberToken(id));
    await depsOf(svc.app.kit).messages.send({ channel: 'WECHAT', to: 'oWxE0000000000000000000001', templateId: 'TPL', data: { first: 'hello' } });
    const erased = await gql(svc.url, `mutation($m: ID!) { eraseMember(input: {memberId: $m, reason: "leaving"}) { status identities { provider } } }`, { m: id }, admin);
    expect(erased.errors).toBeUndefined();
    expect(erased.data.eraseMember).toEqual({ status: 'ERASED', identities: [] });
    expect(await count('SELECT COUNT(*) AS n FROM member_identity WHERE member_id = ?', [id])).toBe(0);
    expect((await gql(svc.url, SENT, { to: 'oWxE0000000000000000000001', channel: 'WECHAT' }, admin)).data.sentMessages).toEqual([]);
    for (const localCode of ['local:oWxE0000000000000000000001', 'local:oWxF0000000000000000000001:uWxE000000000000000000001']) {
      expect(code(await gql(svc.url, LOGIN, { input: { provider: 'WECHAT', code: localCode } }))).toMatchObject({ code: 'NOT_FOUND', reason: 'IDENTITY_NOT_BOUND' });
    }
  });
});
