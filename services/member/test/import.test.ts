import { beforeAll, describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { gql, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp);
let admin: string;
let operator: string;

const IMPORT = `mutation($rows: [ImportMemberRow!]!) { importMembers(input: {rows: $rows}) { created merged rejected results { row status reason field memberId } } }`;
const MEMBER = `query($id: ID!) { member(id: $id) { id phone name email birthday gender channel profileCompletedAt registeredAt } }`;
const rows = (sql: string, params: unknown[] = []) => svc.app.kit.ds.query(sql, params);
const count = async (sql: string, params: unknown[] = []) => Number((await rows(sql, params))[0].n);
const importRows = (r: Array<Record<string, string | null>>, token = operator) => gql(svc.url, IMPORT, { rows: r }, token);
const member = async (id: string) => (await gql(svc.url, MEMBER, { id }, admin)).data.member;
/** Everything an import writes: members, audit rows, events. */
const footprint = async () => ({
  members: await count('SELECT COUNT(*) AS n FROM member'),
  audit: await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'member.import'"),
  outbox: await count('SELECT COUNT(*) AS n FROM outbox'),
});

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
  operator = await tokenFor([Role.OPERATOR], { sub: 'staff-operator' });
});

describe('importMembers: new members', () => {
  it('registers every valid row, normalised and encrypted, announced as member.registered with channel IMPORT', async () => {
    const res = await importRows([
      { phone: '138 1000 0001', name: ' Wang Fang ', email: 'WANG@example.com', birthday: '1990-05-01', gender: 'female' },
      { phone: '+8613810000002', name: 'Chen Jie', channel: 'STORE' },
    ]);
    expect(res.errors).toBeUndefined();
    const out = res.data.importMembers;
    expect(out).toMatchObject({ created: 2, merged: 0, rejected: 0 });
    const [a, b] = out.results.map((r: { memberId: string }) => r.memberId);
    expect(out.results).toEqual([
      { row: 0, status: 'CREATED', reason: null, field: null, memberId: a },
      { row: 1, status: 'CREATED', reason: null, field: null, memberId: b },
    ]);
    expect(await member(a)).toMatchObject({ phone: '+8613810000001', name: 'Wang Fang', email: 'wang@example.com', birthday: '1990-05-01', gender: 'FEMALE', channel: 'IMPORT', profileCompletedAt: expect.any(String) });
    expect(await member(b)).toMatchObject({ phone: '+8613810000002', name: 'Chen Jie', email: null, channel: 'STORE', profileCompletedAt: null });

    expect(Math.abs(Date.parse((await member(a)).registeredAt) - Date.now())).toBeLessThan(60_000);
    const [stored] = await rows('SELECT phone_enc, name_enc, registered_by FROM member WHERE id = ?', [a]);
    expect(stored.phone_enc).not.toContain('13810000001');
    expect(stored.name_enc).not.toContain('Wang');
    expect(stored.registered_by).toBe('staff-operator');
    const events = await rows("SELECT type, subject, payload FROM outbox WHERE subject IN (?, ?) ORDER BY type, subject", [a, b]);
    expect(events.map((e: { type: string; subject: string }) => [e.type, e.subject])).toEqual(
      [['member.profile_completed', a], ['member.registered', a], ['member.registered', b]],
    );
    expect(JSON.parse(events[2].payload).data).toEqual({ memberId: b, channel: 'IMPORT', tier: 'MEMBER', registeredAt: expect.any(String) });
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'member.import' AND actor = 'staff-operator' AND target IN (?, ?)", [a, b])).toBe(2);
  });

  it('de-duplicates on phone inside a batch: later rows merge into the member the first one creates', async () => {
    const res = await importRows([
      { phone: '+8613820000001', name: 'Liu Yang' },
      { phone: '138-2000-0001', name: 'Someone Else', email: 'liu@example.com' },
      { phone: '13820000001', name: 'Liu Yang', birthday: '1985-02-03' },
    ]);
    const out = res.data.importMembers;
    expect(out).toMatchObject({ created: 1, merged: 2, rejected: 0 });
    const id = out.results[0].memberId;
    expect(out.results.map((r: { status: string; memberId: string }) => [r.status, r.memberId])).toEqual([['CREATED', id], ['MERGED', id], ['MERGED', id]]);
    expect(await count("SELECT COUNT(*) AS n FROM member WHERE id = ?", [id])).toBe(1);
    // Gaps filled from the later rows, the name of the first row kept (no row says it is newer).
    expect(await member(id)).toMatchObject({ name: 'Liu Yang', email: 'liu@example.com', birthday: '1985-02-03', profileCompletedAt: expect.any(String) });
    expect(await count("SELECT COUNT(*) AS n FROM outbox WHERE type = 'member.registered' AND subject = ?", [id])).toBe(1);
  });

  it('lets the newer of two rows for one phone win inside a batch, whatever their order', async () => {
    const out = (await importRows([
      { phone: '+8613820000011', name: 'Old Name', updatedAt: '2026-01-01T00:00:00Z' },
      { phone: '+8613820000011', name: 'New Name', updatedAt: '2026-03-01T00:00:00Z' },
      { phone: '+8613820000011', name: 'Older Name', updatedAt: '2025-06-01T00:00:00Z' },
    ])).data.importMembers;
    expect(await member(out.results[0].memberId)).toMatchObject({ name: 'New Name' });
  });
});

describe('importMembers: merging into existing members', () => {
  let id: string;
  beforeAll(async () => {
    const reg = await gql(svc.url, `mutation { registerMember(input: {phone: "+8613830000001", name: "Zhang Min", channel: STORE, email: "zhang@example.com"}) { id } }`, undefined, admin);
    id = reg.data.registerMember.id;
  });

  it('fills empty fields and never overwrites set ones with a row that does not say it is newer', async () => {
    const res = await importRows([{ phone: '13830000001', name: 'Zhang Wei', email: 'other@example.com', birthday: '1979-12-31' }]);
    expect(res.data.importMembers).toMatchObject({ created: 0, merged: 1, rejected: 0, results: [{ row: 0, status: 'MERGED', memberId: id }] });
    expect(await member(id)).toMatchObject({ name: 'Zhang Min', email: 'zhang@example.com', birthday: '1979-12-31', channel: 'STORE' });
    // Completed by the import: announced once.
    expect(await count("SELECT COUNT(*) AS n FROM outbox WHERE type = 'member.profile_completed' AND subject = ?", [id])).toBe(1);
    const [entry] = await rows("SELECT actor, detail FROM audit_log WHERE action = 'member.import' AND target = ?", [id]);
    expect({ actor: entry.actor, detail: JSON.parse(entry.detail) }).toEqual({ actor: 'staff-operator', detail: { merged: true, fields: ['birthday'] } });
    expect(await count("SELECT COUNT(*) AS n FROM outbox WHERE type = 'member.registered' AND subject = ?", [id])).toBe(1);
  });

  it('keeps a profile changed after the row was (updatedAt older than the last profile update)', async () => {
    await gql(svc.url, `mutation($m: ID!) { updateProfile(input: {memberId: $m, gender: MALE}) { id } }`, { m: id }, admin);
    const res = await importRows([{ phone: '+8613830000001', name: 'Zhang Old', gender: 'FEMALE', updatedAt: '2020-01-01' }]);
    expect(res.data.importMembers.merged).toBe(1);
    expect(await member(id)).toMatchObject({ name: 'Zhang Min', gender: 'MALE' });
  });

  it('replaces set fields with a row newer than the profile, never clearing what the row leaves empty', async () => {
    const newer = new Date(Date.now() + 1000).toISOString();
    const res = await importRows([{ phone: '+8613830000001', name: 'Zhang Min-Hua', email: 'zmh@example.com', updatedAt: newer }]);
    expect(res.data.importMembers.merged).toBe(1);
    expect(await member(id)).toMatchObject({ name: 'Zhang Min-Hua', email: 'zmh@example.com', birthday: '1979-12-31', gender: 'MALE' });
    // The old address is free again, the member is found by the new one's name index.
    const found = await gql(svc.url, `{ members(filter: {name: "zhang min-hua"}) { edges { node { id } } } }`, undefined, admin);
    expect(found.data.members.edges).toEqual([{ node: { id } }]);
    // ...and a second run of the same row is older than nothing: it changes nothing more.
    const before = await footprint();
    expect((await importRows([{ phone: '+8613830000001', name: 'Zhang Min-Hua', email: 'zmh@example.com', updatedAt: newer }])).data.importMembers.merged).toBe(1);
    expect(await footprint()).toEqual(before);
  });
});

describe('importMembers: rejections', () => {
  it('rejects bad rows with the field and reason, writing nothing for them', async () => {
    await importRows([{ phone: '+8613840000009', name: 'Has Mail', email: 'taken@example.com' }]);
    const before = await footprint();
    const res = await importRows([
      { phone: '12345', name: 'Bad Phone' },
      { phone: '', name: 'No Phone' },
      { phone: '+8613840000001', name: '   ' },
      { phone: '+8613840000002', name: 'x'.repeat(65) },
      { phone: '+8613840000003', name: 'Bad Mail', email: 'not-an-email' },
      { phone: '+8613840000004', name: 'Future', birthday: '2999-01-01' },
      { phone: '+8613840000005', name: 'Bad Channel', channel: 'FAX' },
      { phone: '+8613840000006', name: 'Bad Time', updatedAt: 'yesterday' },
      { phone: '+8613840000007', name: 'Bad Gender', gender: 'robot' },
      { phone: '+8613840000008', name: 'Mail Taken', email: 'TAKEN@example.com' },
      { phone: '+8613840000010', name: 'Fine' },
    ]);
    expect(res.errors).toBeUndefined();
    const out = res.data.importMembers;
    expect(out).toMatchObject({ created: 1, merged: 0, rejected: 10 });
    expect(out.results.slice(0, 10).map((r: { status: string; field: string }) => [r.status, r.field])).toEqual([
      ['REJECTED', 'phone'],
      ['REJECTED', 'phone'],
      ['REJECTED', 'name'],
      ['REJECTED', 'name'],
      ['REJECTED', 'email'],
      ['REJECTED', 'birthday'],
      ['REJECTED', 'channel'],
      ['REJECTED', 'updatedAt'],
      ['REJECTED', 'gender'],
      ['REJECTED', 'email'],
    ]);
    for (const r of out.results.slice(0, 10)) expect(r).toMatchObject({ memberId: null, reason: expect.any(String) });
    expect(out.results[9].reason).toBe('another member uses this email address');
    // Only the one good row left a trace: one member, one audit row, one event.
    expect(await footprint()).toEqual({ members: before.members + 1, audit: before.audit + 1, outbox: before.outbox + 1 });
  });

  it('refuses a second member with an address an earlier row of the batch took', async () => {
    const out = (await importRows([
      { phone: '+8613840000021', name: 'First', email: 'shared@example.com' },
      { phone: '+8613840000022', name: 'Second', email: 'shared@example.com' },
    ])).data.importMembers;
    expect(out).toMatchObject({ created: 1, rejected: 1, results: [{ status: 'CREATED' }, { status: 'REJECTED', field: 'email' }] });
  });

  it('takes 1 to 1,000 rows, from ADMIN or OPERATOR only', async () => {
    const before = await footprint();
    expect((await importRows([])).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rows' });
    const many = Array.from({ length: 1001 }, (_, i) => ({ phone: `+86139${String(i).padStart(8, '0')}`, name: 'Too Many' }));
    expect((await importRows(many)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rows' });
    for (const role of [Role.SUPPORT, Role.ANALYST, Role.FINANCE]) {
      expect((await importRows([{ phone: '+8613840000031', name: 'Nope' }], await tokenFor([role]))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await importRows([{ phone: '+8613840000031', name: 'Nope' }], await tokenFor([Role.INTEGRATION], { kind: 'client', scopes: ['members:write'] }))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(svc.url, IMPORT, { rows: [{ phone: '+8613840000031', name: 'Nope' }] })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await footprint()).toEqual(before);
    expect((await importRows([{ phone: '+8613840000031', name: 'Admin Import' }], admin)).data.importMembers.created).toBe(1);
  });
});
