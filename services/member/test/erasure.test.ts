import { beforeAll, describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { gql, itHasCompleteMigrations, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp);
let admin: string;

const ERASE = `mutation($input: EraseMemberInput!) { eraseMember(input: $input) { id status erasedAt phone name email birthday gender } }`;
const CARD = `query($id: ID!) { member(id: $id) { id status phone name email birthday gender erasedAt tier { code } annualSpend orders { edges { node { externalId amount member { name } } } } } }`;
const SEARCH = `query($filter: MemberFilter) { members(filter: $filter) { edges { node { id } } } }`;

const rows = (sql: string, params: unknown[] = []) => svc.app.kit.ds.query(sql, params);
const count = async (sql: string, params: unknown[] = []) => Number((await rows(sql, params))[0].n);

async function register(phone: string, name: string, extra = ''): Promise<string> {
  const res = await gql(svc.url, `mutation($p: String!, $n: String!) { registerMember(input: {phone: $p, name: $n, channel: STORE${extra}}) { id } }`, { p: phone, n: name }, admin);
  expect(res.errors).toBeUndefined();
  return res.data.registerMember.id;
}

const memberToken = (id: string) => tokenFor([Role.MEMBER], { kind: 'member', sub: id });

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
});

itHasCompleteMigrations(svc);

describe('eraseMember', () => {
  const phone = '+8613700000001';
  let id: string;
  let before: { data_key: string; phone_enc: string };

  beforeAll(async () => {
    id = await register(phone, 'Liu Yang', ', email: "liu.yang@example.com", birthday: "1990-04-01"');
    const order = await gql(svc.url, `mutation($m: ID!) { recordOrder(input: {source: "pos", externalId: "E-1", memberId: $m, amount: 12345, channel: STORE}) { id } }`, { m: id }, admin);
    expect(order.errors).toBeUndefined();
    // A LOGIN code leaves an otp row and a recorded message addressed to the phone.
    expect((await gql(svc.url, `mutation($p: String!) { requestOtp(input: {phone: $p, purpose: LOGIN}) { expiresAt } }`, { p: phone })).errors).toBeUndefined();
    // What a backup taken before the erasure would hold.
    [before] = await rows('SELECT data_key, phone_enc FROM member WHERE id = ?', [id]);
  });

  it('lets the member erase themself: key destroyed, lookups cleared, status ERASED, audited and announced', async () => {
    const res = await gql(svc.url, ERASE, { input: { memberId: id, reason: 'I want to leave' } }, await memberToken(id));
    expect(res.errors).toBeUndefined();
    expect(res.data.eraseMember).toEqual({ id, status: 'ERASED', erasedAt: expect.any(String), phone: '[erased]', name: '[erased]', email: null, birthday: null, gender: null });

    const [row] = await rows('SELECT * FROM member WHERE id = ?', [id]);
    for (const column of ['data_key', 'phone_index', 'phone_enc', 'name_enc', 'name_index', 'email_index', 'email_enc', 'birthday_enc', 'gender_enc']) expect(row[column]).toBeNull();
    expect(row.status).toBe('ERASED');
    expect(await count('SELECT COUNT(*) AS n FROM otp_code')).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM sent_message')).toBe(0);

    const [entry] = await rows("SELECT actor, detail FROM audit_log WHERE action = 'member.erase' AND target = ?", [id]);
    expect({ actor: entry.actor, detail: JSON.parse(entry.detail) }).toEqual({ actor: id, detail: { from: 'ACTIVE', reason: 'I want to leave' } });
    const events = (await rows('SELECT type, payload FROM outbox WHERE subject = ? ORDER BY seq', [id])) as Array<{ type: string; payload: string }>;
    expect(events.slice(-2).map((e) => [e.type, JSON.parse(e.payload).data])).toEqual([
      ['member.status_changed', { memberId: id, from: 'ACTIVE', to: 'ERASED', changedAt: row.erased_at.toISOString() }],
      ['member.erased', { memberId: id, erasedAt: row.erased_at.toISOString() }],
    ]);
  });

  it('keeps no copy of the data key, so ciphertext copied before the erasure (exports, later backups) stays unreadable', async () => {
    const everything = JSON.stringify([
      await rows('SELECT * FROM member WHERE id = ?', [id]),
      await rows('SELECT * FROM audit_log WHERE target = ?', [id]),
      await rows('SELECT * FROM outbox WHERE subject = ?', [id]),
    ]);
    expect(everything).not.toContain(before.data_key);
    expect(everything).not.toContain(before.phone_enc);
  });

  it('shows placeholders on reads, never errors, and keeps the orders as anonymous totals', async () => {
    const res = await gql(svc.url, CARD, { id }, admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.member).toEqual({
      id,
      status: 'ERASED',
      phone: '[erased]',
      name: '[erased]',
      email: null,
      birthday: null,
      gender: null,
      erasedAt: expect.any(String),
      tier: { code: 'MEMBER' },
      annualSpend: 12345,
      orders: { edges: [{ node: { externalId: 'E-1', amount: 12345, member: { name: '[erased]' } } }] },
    });
    const operator = await tokenFor([Role.OPERATOR]);
    const ref = await gql(svc.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { phone name } } }`, { r: [{ __typename: 'Member', id }] }, operator);
    expect(ref.errors).toBeUndefined();
    expect(ref.data._entities).toEqual([{ phone: '[erased]', name: '[erased]' }]);
  });

  it('cannot be found by phone, name or email any more, and the phone registers again as a new member', async () => {
    for (const filter of [{ phone }, { name: 'Liu Yang' }]) expect((await gql(svc.url, SEARCH, { filter }, admin)).data.members.edges).toEqual([]);
    const again = await register(phone, 'Liu Yang', ', email: "liu.yang@example.com"');
    expect(again).not.toBe(id);
    expect((await gql(svc.url, SEARCH, { filter: { phone } }, admin)).data.members.edges).toEqual([{ node: { id: again } }]);
  });

  it('is final: erasing again changes nothing, and no order, profile change or status change reaches the member', async () => {
    const events = await count('SELECT COUNT(*) AS n FROM outbox WHERE subject = ?', [id]);
    expect((await gql(svc.url, ERASE, { input: { memberId: id, reason: 'again' } }, admin)).data.eraseMember.status).toBe('ERASED');
    expect(await count('SELECT COUNT(*) AS n FROM outbox WHERE subject = ?', [id])).toBe(events);
    const order = await gql(svc.url, `mutation($m: ID!) { recordOrder(input: {source: "pos", externalId: "E-2", memberId: $m, amount: 1, channel: STORE}) { id } }`, { m: id }, admin);
    expect(order.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const profile = await gql(svc.url, `mutation($m: ID!) { updateProfile(input: {memberId: $m, name: "X"}) { id } }`, { m: id }, admin);
    expect(profile.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const status = await gql(svc.url, `mutation($m: ID!) { changeMemberStatus(input: {memberId: $m, status: ACTIVE, reason: "x"}) { id } }`, { m: id }, admin);
    expect(status.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('who may erase', () => {
  it('is the member themself or ADMIN; other staff, other members and anonymous callers are refused, nothing written', async () => {
    const id = await register('+8613700000002', 'Ma Li');
    const other = await register('+8613700000003', 'Ma Lin');
    const input = { memberId: id, reason: 'request by phone' };
    for (const token of [await tokenFor([Role.OPERATOR]), await tokenFor([Role.SUPPORT]), await tokenFor([Role.INTEGRATION], { kind: 'client', scopes: ['members:write'] }), await memberToken(other)]) {
      expect((await gql(svc.url, ERASE, { input }, token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await gql(svc.url, ERASE, { input })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await gql(svc.url, ERASE, { input: { ...input, reason: ' ' } }, admin)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect((await gql(svc.url, ERASE, { input: { ...input, memberId: '01NOSUCHMEMBER000000000000' } }, admin)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await count("SELECT COUNT(*) AS n FROM member WHERE id = ? AND status = 'ACTIVE' AND data_key IS NOT NULL", [id])).toBe(1);

    const res = await gql(svc.url, ERASE, { input }, admin);
    expect(res.data.eraseMember.status).toBe('ERASED');
    expect((await rows("SELECT actor FROM audit_log WHERE action = 'member.erase' AND target = ?", [id]))[0].actor).toBe('staff-admin');
    // The erased member's token no longer reaches their record.
    expect((await gql(svc.url, `{ me { id } }`, undefined, await memberToken(id))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
