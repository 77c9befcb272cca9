import { beforeAll, describe, expect, it } from 'vitest';
import { Bus, createLogger, decodeEnvelope, Role } from '@membergraph/platform';
import { eventually, gql, itHasCompleteMigrations, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp, { env: { ADMIN_PASSWORD: 'correct horse battery' } });
let admin: string;

const REGISTER = `mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id phone name channel status tier { code name } } }`;
const RECORD = `mutation($input: RecordOrderInput!) { recordOrder(input: $input) { id amount source externalId member { id } } }`;

beforeAll(async () => {
  const login = await gql(svc.url, `mutation { staffLogin(input: {username: "admin", password: "correct horse battery"}) { token expiresAt } }`);
  admin = login.data.staffLogin.token;
});

itHasCompleteMigrations(svc);

describe('staff login', () => {
  it('refuses a wrong password with UNAUTHENTICATED', async () => {
    const res = await gql(svc.url, `mutation { staffLogin(input: {username: "admin", password: "nope nope"}) { token } }`);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a forged token', async () => {
    const forged = await tokenFor([Role.ADMIN], {}, 'another-secret-that-is-long-enough-000000');
    const res = await gql(svc.url, `{ members(first: 1) { edges { cursor } } }`, undefined, forged);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('registerMember', () => {
  it('normalises the phone to E.164, starts at the entry tier and announces member.registered', async () => {
    const res = await gql(svc.url, REGISTER, { input: { phone: '138 0000 0001', name: 'Li Lei', channel: 'STORE' } }, admin);
    expect(res.errors).toBeUndefined();
    const m = res.data.registerMember;
    expect(m).toMatchObject({ phone: '+8613800000001', name: 'Li Lei', channel: 'STORE', status: 'ACTIVE', tier: { code: 'MEMBER' } });

    const bus = await Bus.connect({ url: process.env.NATS_URL!, prefix: svc.scope.prefix, name: 't', log: createLogger('t', 'silent') });
    try {
      const stream = bus.streamName('MEMBER');
      const msg = await eventually(async () => {
        const found = await bus.jsm.streams.getMessage(stream, { last_by_subj: bus.subject('member.registered') });
        expect(found).toBeTruthy();
        return found!;
      });
      const event = decodeEnvelope(msg.data);
      expect(event.data).toMatchObject({ memberId: m.id, channel: 'STORE', tier: 'MEMBER' });
      expect(JSON.stringify(event)).not.toContain('13800000001');
    } finally {
      await bus.close();
    }
  });

  it('stores PII encrypted, never in clear', async () => {
    const rows: Array<Record<string, string>> = await svc.app.kit.ds.query('SELECT * FROM member');
    expect(JSON.stringify(rows)).not.toContain('13800000001');
    expect(JSON.stringify(rows)).not.toContain('Li Lei');
  });

  it('gives CONFLICT for a phone that is already registered, however it is written', async () => {
    const res = await gql(svc.url, REGISTER, { input: { phone: '+86 138-0000-0001', name: 'Han Meimei', channel: 'WEB' } }, admin);
    expect(res.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await svc.app.kit.ds.query('SELECT COUNT(*) AS n FROM member')).toEqual([{ n: '1' }]);
  });

  it('rejects an invalid phone with BAD_USER_INPUT and writes nothing', async () => {
    const res = await gql(svc.url, REGISTER, { input: { phone: '12345', name: 'X', channel: 'WEB' } }, admin);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await svc.app.kit.ds.query('SELECT COUNT(*) AS n FROM member')).toEqual([{ n: '1' }]);
  });

  it('masks PII for roles that may not see it', async () => {
    const analyst = await tokenFor([Role.ANALYST]);
    const res = await gql(svc.url, `{ members(first: 5) { edges { node { phone name } } } }`, undefined, analyst);
    expect(res.data.members.edges[0].node).toEqual({ phone: '+86138****0001', name: 'L*****' });
  });

  it('requires a staff role to register and a token to read', async () => {
    const analyst = await tokenFor([Role.ANALYST]);
    const res = await gql(svc.url, REGISTER, { input: { phone: '13800000002', name: 'X', channel: 'WEB' } }, analyst);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anon = await gql(svc.url, `{ members(first: 1) { edges { cursor } } }`);
    expect(anon.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('lets a member read only their own record', async () => {
    const [row] = await svc.app.kit.ds.query('SELECT id FROM member');
    const self = await tokenFor([Role.MEMBER], { kind: 'member', sub: row.id });
    const other = await tokenFor([Role.MEMBER], { kind: 'member', sub: '01OTHERMEMBER0000000000000' });
    const q = `query($id: ID!) { member(id: $id) { id phone } }`;
    expect((await gql(svc.url, q, { id: row.id }, self)).data.member).toEqual({ id: row.id, phone: '+8613800000001' });
    expect((await gql(svc.url, q, { id: row.id }, other)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('recordOrder', () => {
  let memberId: string;
  beforeAll(async () => {
    const res = await gql(svc.url, REGISTER, { input: { phone: '13900000009', name: 'Wang Fang', channel: 'APP' } }, admin);
    memberId = res.data.registerMember.id;
  });

  it('records an order once per (source, externalId), also under concurrent retries', async () => {
    const input = { source: 'pos', externalId: 'A-1', memberId, amount: 12850, storeId: 's1', channel: 'STORE' };
    const results = await Promise.all(Array.from({ length: 8 }, () => gql(svc.url, RECORD, { input }, admin)));
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(new Set(results.map((r) => r.data.recordOrder.id)).size).toBe(1);
    expect(results[0]!.data.recordOrder).toMatchObject({ amount: 12850, member: { id: memberId } });
    expect(await svc.app.kit.ds.query("SELECT COUNT(*) AS n FROM outbox WHERE type = 'order.completed'")).toEqual([{ n: '1' }]);
  });

  it('answers a reused order id with different details with CONFLICT', async () => {
    const res = await gql(svc.url, RECORD, { input: { source: 'pos', externalId: 'A-1', memberId, amount: 1, channel: 'STORE' } }, admin);
    expect(res.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('accepts INTEGRATION clients with the orders:write scope only', async () => {
    const client = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'erp', scopes: ['orders:write'] });
    const noScope = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'crm', scopes: ['members:read'] });
    const input = { source: 'erp', externalId: 'E-9', memberId, amount: 100, channel: 'WEB' };
    expect((await gql(svc.url, RECORD, { input }, client)).data.recordOrder.amount).toBe(100);
    expect((await gql(svc.url, RECORD, { input }, noScope)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('rejects bad input with BAD_USER_INPUT', async () => {
    for (const bad of [{ amount: -1 }, { amount: 1.5 }, { memberId: 'nope' }, { source: '' }]) {
      const input = { source: 'pos', externalId: `B-${Math.random()}`, memberId, amount: 100, channel: 'STORE', ...bad };
      const res = await gql(svc.url, RECORD, { input }, admin);
      expect(['BAD_USER_INPUT', 'NOT_FOUND']).toContain(res.errors?.[0]?.extensions?.code);
    }
  });

  it('pages a member\'s orders newest first', async () => {
    const q = `query($id: ID!, $after: String) { member(id: $id) { orders(first: 1, after: $after) { edges { node { externalId } } pageInfo { hasNextPage endCursor } } } }`;
    const p1 = await gql(svc.url, q, { id: memberId }, admin);
    expect(p1.data.member.orders.edges[0].node.externalId).toBe('E-9');
    expect(p1.data.member.orders.pageInfo.hasNextPage).toBe(true);
    const p2 = await gql(svc.url, q, { id: memberId, after: p1.data.member.orders.pageInfo.endCursor }, admin);
    expect(p2.data.member.orders.edges[0].node.externalId).toBe('A-1');
    expect(p2.data.member.orders.pageInfo.hasNextPage).toBe(false);
  });
});

describe('registerMember under concurrency', () => {
  it('answers concurrent registrations each on its own: a phone or email taken in the same moment gets CONFLICT, every other one commits with its audit entry and event', async () => {
    const inputs: Array<Record<string, string>> = Array.from({ length: 30 }, (_, i) => ({
      phone: `1370000${String(i).padStart(4, '0')}`,
      name: `Batch ${i}`,
      channel: 'STORE',
      email: `batch${i}@example.com`,
    }));
    inputs.push({ ...inputs[3]!, name: 'Same phone' }, { phone: '13700009999', name: 'Same email', channel: 'STORE', email: 'batch5@example.com' }, { phone: '138 0000 0001', name: 'Registered before', channel: 'STORE' });
    const results = await Promise.all(inputs.map((input) => gql(svc.url, REGISTER, { input }, admin)));
    const conflicts = results.filter((r) => r.errors).map((r) => r.errors![0]!.extensions);
    expect(conflicts.map((e) => `${e?.code} ${e?.field}`).sort()).toEqual(['CONFLICT email', 'CONFLICT phone', 'CONFLICT phone']);
    const ids: string[] = results.filter((r) => !r.errors).map((r) => r.data.registerMember.id);
    expect(ids).toHaveLength(30);
    const audited = await svc.app.kit.ds.query("SELECT target FROM audit_log WHERE action = 'member.register' AND target IN (?)", [ids]);
    const announced = await svc.app.kit.ds.query("SELECT subject FROM outbox WHERE type = 'member.registered' AND subject IN (?)", [ids]);
    expect(audited.map((r: { target: string }) => r.target).sort()).toEqual([...ids].sort());
    expect(announced.map((r: { subject: string }) => r.subject).sort()).toEqual([...ids].sort());
    // One member per phone, and the winner of each race holds what it asked for.
    const phones = await Promise.all(['+8613700000003', '+8613700000005', '+8613700009999'].map(async (phone) =>
      (await gql(svc.url, `query($p: String!) { members(filter: {phone: $p}) { edges { node { name email } } } }`, { p: phone }, admin)).data.members.edges.map((e: { node: unknown }) => e.node),
    ));
    expect(phones[0]).toHaveLength(1);
    expect(phones[1]!.length + phones[2]!.length).toBe(1);
    expect([...phones[1]!, ...phones[2]!][0]).toMatchObject({ email: 'batch5@example.com' });
  });
});
