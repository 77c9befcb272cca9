import { beforeAll, describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { gql, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp);
let admin: string;

const UPDATE = `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id name email birthday gender profileCompletedAt } }`;

const rows = (sql: string, params: unknown[] = []) => svc.app.kit.ds.query(sql, params);
const count = async (sql: string, params: unknown[] = []) => Number((await rows(sql, params))[0].n);
const completions = (id: string) => count("SELECT COUNT(*) AS n FROM outbox WHERE type = 'member.profile_completed' AND subject = ?", [id]);

async function register(phone: string, extra = ''): Promise<string> {
  const res = await gql(svc.url, `mutation($p: String!) { registerMember(input: {phone: $p, name: "Guo Jing", channel: STORE${extra}}) { id } }`, { p: phone }, admin);
  expect(res.errors).toBeUndefined();
  return res.data.registerMember.id;
}
const memberToken = (id: string) => tokenFor([Role.MEMBER], { kind: 'member', sub: id });

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
});

describe('updateProfile', () => {
  it('lets the member fill in their profile step by step; completion is announced once, never again', async () => {
    const id = await register('+8613300000001');
    const self = await memberToken(id);
    const first = await gql(svc.url, UPDATE, { input: { memberId: id, email: ' Guo.Jing@Example.com ' } }, self);
    expect(first.errors).toBeUndefined();
    expect(first.data.updateProfile).toEqual({ id, name: 'Guo Jing', email: 'guo.jing@example.com', birthday: null, gender: null, profileCompletedAt: null });
    expect(await completions(id)).toBe(0);

    const second = await gql(svc.url, UPDATE, { input: { memberId: id, birthday: '1992-02-29', gender: 'FEMALE' } }, self);
    expect(second.data.updateProfile).toMatchObject({ birthday: '1992-02-29', gender: 'FEMALE', profileCompletedAt: expect.any(String) });
    const [event] = await rows("SELECT payload FROM outbox WHERE type = 'member.profile_completed' AND subject = ?", [id]);
    expect(JSON.parse(event.payload).data).toEqual({ memberId: id, completedAt: second.data.updateProfile.profileCompletedAt });

    // Changing a field of a complete profile, or the same values again, completes nothing new.
    await gql(svc.url, UPDATE, { input: { memberId: id, name: 'Guo Jing II', birthday: '1992-03-01' } }, self);
    await gql(svc.url, UPDATE, { input: { memberId: id, name: 'Guo Jing II' } }, self);
    expect(await completions(id)).toBe(1);
    // A member's own changes are not staff writes: not audited.
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'member.profile_update' AND target = ?", [id])).toBe(0);
    // The name search follows the new name.
    const found = await gql(svc.url, `{ members(filter: {name: "guo jing ii"}) { edges { node { id } } } }`, undefined, admin);
    expect(found.data.members.edges).toEqual([{ node: { id } }]);
  });

  it('counts a registration with email and birthday as a completed profile', async () => {
    const id = await register('+8613300000002', ', email: "full@example.com", birthday: "1980-01-01"');
    expect(await completions(id)).toBe(1);
    await gql(svc.url, UPDATE, { input: { memberId: id, name: 'Huang Rong' } }, admin);
    expect(await completions(id)).toBe(1);
  });

  it('audits staff changes by field name only (never the values)', async () => {
    const id = await register('+8613300000003');
    const support = await tokenFor([Role.SUPPORT], { sub: 'support-7' });
    const res = await gql(svc.url, UPDATE, { input: { memberId: id, name: 'Yang Guo', email: 'yang.guo@example.com' } }, support);
    expect(res.errors).toBeUndefined();
    const [entry] = await rows("SELECT actor, detail FROM audit_log WHERE action = 'member.profile_update' AND target = ?", [id]);
    expect({ actor: entry.actor, detail: JSON.parse(entry.detail) }).toEqual({ actor: 'support-7', detail: { fields: ['name', 'email'] } });
    const operator = await tokenFor([Role.OPERATOR]);
    expect((await gql(svc.url, UPDATE, { input: { memberId: id, gender: 'MALE' } }, operator)).errors).toBeUndefined();
  });

  it('rejects bad input with BAD_USER_INPUT naming the field and a taken email with CONFLICT, writing nothing', async () => {
    const id = await register('+8613300000004');
    await register('+8613300000005', ', email: "taken@example.com"');
    const before = (await rows('SELECT * FROM member WHERE id = ?', [id]))[0];
    for (const [input, field] of [
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(65) }, 'name'],
      [{ email: 'not-an-email' }, 'email'],
      [{ birthday: '2999-01-01' }, 'birthday'],
      [{ birthday: '1990-02-30' }, 'birthday'],
    ] as const) {
      const res = await gql(svc.url, UPDATE, { input: { memberId: id, ...input } }, admin);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect((await gql(svc.url, UPDATE, { input: { memberId: id, gender: 'NONE' } }, admin)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await gql(svc.url, UPDATE, { input: { memberId: id, email: 'TAKEN@example.com', name: 'New' } }, admin)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'email' });
    expect((await rows('SELECT * FROM member WHERE id = ?', [id]))[0]).toEqual(before);
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'member.profile_update' AND target = ?", [id])).toBe(0);
  });

  it('is refused to other members, to roles that may not and to a BLACKLISTED member', async () => {
    const id = await register('+8613300000006');
    const other = await register('+8613300000007');
    const input = { memberId: id, name: 'Intruder' };
    for (const token of [await memberToken(other), await tokenFor([Role.ANALYST]), await tokenFor([Role.FINANCE]), await tokenFor([Role.INTEGRATION], { kind: 'client', scopes: ['members:read'] })]) {
      expect((await gql(svc.url, UPDATE, { input }, token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    await gql(svc.url, `mutation($m: ID!) { changeMemberStatus(input: {memberId: $m, status: BLACKLISTED, reason: "abuse"}) { id } }`, { m: id }, admin);
    expect((await gql(svc.url, UPDATE, { input }, await memberToken(id))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
