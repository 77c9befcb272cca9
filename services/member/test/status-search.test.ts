import { beforeAll, describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { gql, serviceUnderTest, tokenFor, type GqlResult } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp);
let admin: string;

const STATUS = `mutation($input: ChangeMemberStatusInput!) { changeMemberStatus(input: $input) { id status } }`;
const SEARCH = `query($filter: MemberFilter, $first: Int, $after: String) { members(filter: $filter, first: $first, after: $after) { edges { node { id name status tier { code } } } pageInfo { hasNextPage endCursor } } }`;

const count = async (sql: string, params: unknown[] = []) => Number((await svc.app.kit.ds.query(sql, params))[0].n);

async function register(phone: string, name: string): Promise<string> {
  const res = await gql(svc.url, `mutation($p: String!, $n: String!) { registerMember(input: {phone: $p, name: $n, channel: STORE}) { id } }`, { p: phone, n: name }, admin);
  expect(res.errors).toBeUndefined();
  return res.data.registerMember.id;
}

async function loginCode(phone: string): Promise<string> {
  const req = await gql(svc.url, `mutation($p: String!) { requestOtp(input: {phone: $p, purpose: LOGIN}) { expiresAt } }`, { p: phone });
  expect(req.errors).toBeUndefined();
  const sent = await gql(svc.url, `query($to: String!) { sentMessages(to: $to) { body } }`, { to: phone }, admin);
  return /\b(\d{6})\b/.exec(sent.data.sentMessages[0].body)![1]!;
}

const login = (phone: string, otp: string) => gql(svc.url, `mutation($p: String!, $o: String!) { memberLogin(input: {phone: $p, otp: $o}) { token } }`, { p: phone, o: otp });

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
});

describe('changeMemberStatus', () => {
  it('freezes a member with a reason: audited, announced, and login refused until reactivated', async () => {
    const phone = '+8613600000001';
    const id = await register(phone, 'Zhao Lei');
    const code = await loginCode(phone);
    const support = await tokenFor([Role.SUPPORT], { sub: 'support-1' });
    const res = await gql(svc.url, STATUS, { input: { memberId: id, status: 'FROZEN', reason: 'suspected fraud' } }, support);
    expect(res.errors).toBeUndefined();
    expect(res.data.changeMemberStatus).toEqual({ id, status: 'FROZEN' });

    const [event] = await svc.app.kit.ds.query("SELECT payload FROM outbox WHERE type = 'member.status_changed' AND subject = ?", [id]);
    expect(JSON.parse(event.payload).data).toEqual({ memberId: id, from: 'ACTIVE', to: 'FROZEN', changedAt: expect.any(String) });
    const [entry] = await svc.app.kit.ds.query("SELECT actor, detail FROM audit_log WHERE action = 'member.status_change' AND target = ?", [id]);
    expect({ actor: entry.actor, detail: JSON.parse(entry.detail) }).toEqual({ actor: 'support-1', detail: { from: 'ACTIVE', to: 'FROZEN', reason: 'suspected fraud' } });

    expect((await login(phone, code)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await gql(svc.url, STATUS, { input: { memberId: id, status: 'ACTIVE', reason: 'cleared' } }, admin);
    expect((await login(phone, code)).errors).toBeUndefined();
  });

  it('keeps a BLACKLISTED member out even with a token issued before', async () => {
    const id = await register('+8613600000002', 'Qian Li');
    const token = await tokenFor([Role.MEMBER], { kind: 'member', sub: id });
    expect((await gql(svc.url, `{ me { id } }`, undefined, token)).data.me.id).toBe(id);
    await gql(svc.url, STATUS, { input: { memberId: id, status: 'BLACKLISTED', reason: 'abuse' } }, admin);
    expect((await gql(svc.url, `{ me { id } }`, undefined, token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(svc.url, `query($id: ID!) { member(id: $id) { id } }`, { id }, token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const ref = await gql(svc.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { id } } }`, { r: [{ __typename: 'Member', id }] }, token);
    expect(ref.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('still records the orders of FROZEN and BLACKLISTED members', async () => {
    for (const [status, phone] of [['FROZEN', '+8613600000011'], ['BLACKLISTED', '+8613600000012']] as const) {
      const id = await register(phone, 'Sun Mei');
      await gql(svc.url, STATUS, { input: { memberId: id, status, reason: 'test' } }, admin);
      const res = await gql(svc.url, `mutation($m: ID!, $x: String!) { recordOrder(input: {source: "pos", externalId: $x, memberId: $m, amount: 100, channel: STORE}) { id } }`, { m: id, x: `S-${status}` }, admin);
      expect(res.errors).toBeUndefined();
    }
  });

  it('requires a reason and a settable status (BAD_USER_INPUT, nothing written) and a role that may', async () => {
    const id = await register('+8613600000003', 'Zhou Xun');
    const outbox = await count('SELECT COUNT(*) AS n FROM outbox');
    expect((await gql(svc.url, STATUS, { input: { memberId: id, status: 'FROZEN', reason: '' } }, admin)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect((await gql(svc.url, STATUS, { input: { memberId: id, status: 'ERASED', reason: 'x' } }, admin)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'status' });
    for (const role of [Role.ANALYST, Role.FINANCE]) {
      expect((await gql(svc.url, STATUS, { input: { memberId: id, status: 'FROZEN', reason: 'x' } }, await tokenFor([role]))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const self = await tokenFor([Role.MEMBER], { kind: 'member', sub: id });
    expect((await gql(svc.url, STATUS, { input: { memberId: id, status: 'FROZEN', reason: 'x' } }, self)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(svc.url, STATUS, { input: { memberId: '01NOSUCHMEMBER000000000000', status: 'FROZEN', reason: 'x' } }, admin)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // Setting the status it already has changes nothing.
    expect((await gql(svc.url, STATUS, { input: { memberId: id, status: 'ACTIVE', reason: 'x' } }, admin)).data.changeMemberStatus.status).toBe('ACTIVE');
    expect(await count('SELECT COUNT(*) AS n FROM outbox')).toBe(outbox);
  });
});

describe('members(filter)', () => {
  let a: string;
  let b: string;
  let c: string;
  let from: string;

  beforeAll(async () => {
    from = new Date().toISOString();
    a = await register('+8613500000001', 'Li Lei');
    b = await register('+8613500000002', 'Li Lei');
    c = await register('+8613500000003', 'Han Meimei');
    await gql(svc.url, `mutation($m: ID!) { setMemberTier(input: {memberId: $m, tier: "GOLD", reason: "test"}) { id } }`, { m: b }, admin);
    await gql(svc.url, STATUS, { input: { memberId: c, status: 'FROZEN', reason: 'test' } }, admin);
  });

  const ids = (res: GqlResult) => (res.data.members.edges as Array<{ node: { id: string } }>).map((e) => e.node.id);

  it('finds a member by exact phone, however it is written, through the blind index', async () => {
    expect(ids(await gql(svc.url, SEARCH, { filter: { phone: '135 0000 0002' } }, admin))).toEqual([b]);
    expect(ids(await gql(svc.url, SEARCH, { filter: { phone: '+8613599999999' } }, admin))).toEqual([]);
  });

  it('finds members by exact name, ignoring case and spacing, newest first', async () => {
    expect(ids(await gql(svc.url, SEARCH, { filter: { name: '  li   LEI ' } }, admin))).toEqual([b, a]);
    expect(ids(await gql(svc.url, SEARCH, { filter: { name: 'Li' } }, admin))).toEqual([]);
  });

  it('filters by tier, status and registration time, and combines conditions', async () => {
    expect(ids(await gql(svc.url, SEARCH, { filter: { tier: 'GOLD', registeredFrom: from } }, admin))).toEqual([b]);
    expect(ids(await gql(svc.url, SEARCH, { filter: { status: 'FROZEN', registeredFrom: from } }, admin))).toEqual([c]);
    expect(ids(await gql(svc.url, SEARCH, { filter: { name: 'li lei', tier: 'MEMBER' } }, admin))).toEqual([a]);
    expect(ids(await gql(svc.url, SEARCH, { filter: { registeredFrom: from } }, admin))).toEqual([c, b, a]);
    expect(ids(await gql(svc.url, SEARCH, { filter: { registeredTo: from } }, admin))).not.toContain(a);
  });

  it('pages through a filtered list', async () => {
    const p1 = await gql(svc.url, SEARCH, { filter: { registeredFrom: from }, first: 2 }, admin);
    expect(ids(p1)).toEqual([c, b]);
    expect(p1.data.members.pageInfo.hasNextPage).toBe(true);
    const p2 = await gql(svc.url, SEARCH, { filter: { registeredFrom: from }, first: 2, after: p1.data.members.pageInfo.endCursor }, admin);
    expect(ids(p2)).toEqual([a]);
    expect(p2.data.members.pageInfo.hasNextPage).toBe(false);
  });

  it('rejects malformed filters with BAD_USER_INPUT naming the field', async () => {
    for (const [filter, field] of [
      [{ phone: '12345' }, 'filter.phone'],
      [{ name: '' }, 'filter.name'],
      [{ tier: 'gold' }, 'filter.tier'],
      [{ registeredFrom: '2025-02-01T00:00:00Z', registeredTo: '2025-01-01T00:00:00Z' }, 'filter.registeredTo'],
    ] as const) {
      expect((await gql(svc.url, SEARCH, { filter }, admin)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });

  it('lets ANALYST filter by tier and status, but not look people up by phone or name', async () => {
    const analyst = await tokenFor([Role.ANALYST]);
    expect(ids(await gql(svc.url, SEARCH, { filter: { tier: 'GOLD', registeredFrom: from } }, analyst))).toEqual([b]);
    expect((await gql(svc.url, SEARCH, { filter: { phone: '+8613500000002' } }, analyst)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(svc.url, SEARCH, { filter: { name: 'Li Lei' } }, analyst)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const erp = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'erp', scopes: ['members:read'] });
    expect(ids(await gql(svc.url, SEARCH, { filter: { phone: '+8613500000002' } }, erp))).toEqual([b]);
  });
});

describe('name index backfill', () => {
  it('indexes names of members registered before the index existed, at start', async () => {
    await svc.app.kit.ds.query('UPDATE member SET name_index = NULL');
    const { backfillNameIndex } = await import('../src/services/member-search.service');
    const { depsOf } = await import('../src/services/deps');
    expect(await backfillNameIndex(svc.app.kit, depsOf(svc.app.kit).vault, 2)).toBeGreaterThan(2);
    expect(await count('SELECT COUNT(*) AS n FROM member WHERE name_index IS NULL')).toBe(0);
    expect((await gql(svc.url, SEARCH, { filter: { name: 'han meimei' } }, admin)).data.members.edges).toHaveLength(1);
  });
});
