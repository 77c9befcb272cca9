import { beforeAll, describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { gql, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp);
let admin: string;
let id: string;

const MY_DATA = `{ myData { exportedAt profile { id phone name email birthday gender channel status tier registeredAt profileCompletedAt }
  consents { purpose channel granted policyVersion } orders { externalId amount refundedAmount } refunds { refundId amount }
  tierHistory { from to reason } auditLog { actor action detail } } }`;
const AUDIT = `query($m: ID!, $first: Int, $after: String) { auditLog(memberId: $m, first: $first, after: $after) { edges { node { id actor action target detail at } } pageInfo { hasNextPage endCursor } } }`;
const rows = (sql: string, params: unknown[] = []) => svc.app.kit.ds.query(sql, params);
const piiReads = async (target: string) => Number((await rows("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'member.pii_read' AND target = ?", [target]))[0].n);

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
  const reg = await gql(svc.url, `mutation { registerMember(input: {phone: "+8613100000001", name: "Qiao Feng", channel: STORE, email: "qiao@example.com"}) { id } }`, undefined, admin);
  id = reg.data.registerMember.id;
  await gql(svc.url, `mutation($m: ID!) { recordOrder(input: {source: "pos", externalId: "A-1", memberId: $m, amount: 150000, channel: STORE}) { id } }`, { m: id }, admin);
  await gql(svc.url, `mutation { recordRefund(input: {source: "pos", externalOrderId: "A-1", refundId: "R-1", amount: 10000}) { id } }`, undefined, admin);
  await gql(svc.url, `mutation($m: ID!) { updateConsents(input: {memberId: $m, consents: [{purpose: MARKETING, channel: SMS, granted: true, policyVersion: "v3"}]}) { id } }`, { m: id }, admin);
});

describe('myData', () => {
  it('gives the member everything held about them, profile in clear', async () => {
    const res = await gql(svc.url, MY_DATA, undefined, await tokenFor([Role.MEMBER], { kind: 'member', sub: id }));
    expect(res.errors).toBeUndefined();
    const data = res.data.myData;
    expect(data.profile).toEqual({
      id,
      phone: '+8613100000001',
      name: 'Qiao Feng',
      email: 'qiao@example.com',
      birthday: null,
      gender: null,
      channel: 'STORE',
      status: 'ACTIVE',
      tier: 'SILVER',
      registeredAt: expect.any(String),
      profileCompletedAt: null,
    });
    expect(data.consents).toEqual([{ purpose: 'MARKETING', channel: 'SMS', granted: true, policyVersion: 'v3' }]);
    expect(data.orders).toEqual([{ externalId: 'A-1', amount: 150000, refundedAmount: 10000 }]);
    expect(data.refunds).toEqual([{ refundId: 'R-1', amount: 10000 }]);
    expect(data.tierHistory).toEqual([{ from: 'MEMBER', to: 'SILVER', reason: 'UPGRADE' }]);
    expect(data.auditLog.map((e: { action: string }) => e.action)).toEqual(['member.consents_update', 'member.register']);
  });

  it('is for member tokens only', async () => {
    expect((await gql(svc.url, MY_DATA, undefined, admin)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(svc.url, MY_DATA)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('auditLog', () => {
  it('pages a member record’s audit trail newest first, details masked, for ADMIN and SUPPORT only', async () => {
    // A detail holding PII (an older writer, or a mistake) is masked on the way out.
    await rows("INSERT INTO audit_log (id, actor, action, target, detail, at) VALUES ('01ZZZZZZZZZZZZZZZZZZZZZZZZ', 'legacy', 'member.note', ?, ?, NOW(3))", [id, JSON.stringify({ before: { phone: '+8613100000001', email: 'qiao@example.com' } })]);
    const support = await tokenFor([Role.SUPPORT]);
    const page1 = await gql(svc.url, AUDIT, { m: id, first: 2 }, support);
    expect(page1.errors).toBeUndefined();
    expect(page1.data.auditLog.edges.map((e: { node: { action: string } }) => e.node.action)).toEqual(['member.note', 'member.consents_update']);
    expect(JSON.parse(page1.data.auditLog.edges[0].node.detail)).toEqual({ before: { phone: '+86131****0001', email: 'q****@example.com' } });
    expect(page1.data.auditLog.pageInfo.hasNextPage).toBe(true);
    const page2 = await gql(svc.url, AUDIT, { m: id, first: 2, after: page1.data.auditLog.pageInfo.endCursor }, support);
    expect(page2.data.auditLog.edges.map((e: { node: { action: string } }) => e.node.action)).toEqual(['member.register']);
    for (const role of [Role.OPERATOR, Role.ANALYST]) expect((await gql(svc.url, AUDIT, { m: id }, await tokenFor([role]))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(svc.url, AUDIT, { m: id }, await tokenFor([Role.MEMBER], { kind: 'member', sub: id }))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await rows("DELETE FROM audit_log WHERE id = '01ZZZZZZZZZZZZZZZZZZZZZZZZ'");
  });
});

describe('reading PII in clear', () => {
  it('writes one audit row per request and member for ADMIN and SUPPORT, however many fields and members', async () => {
    const other = (await gql(svc.url, `mutation { registerMember(input: {phone: "+8613100000002", name: "Duan Yu", channel: STORE}) { id } }`, undefined, admin)).data.registerMember.id;
    const support = await tokenFor([Role.SUPPORT], { sub: 'support-9' });
    const before = [await piiReads(id), await piiReads(other)];
    const res = await gql(
      svc.url,
      `query($a: ID!, $b: ID!) { a: member(id: $a) { phone name email birthday } again: member(id: $a) { phone } b: member(id: $b) { name } }`,
      { a: id, b: other },
      support,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.a.phone).toBe('+8613100000001');
    expect([await piiReads(id), await piiReads(other)]).toEqual([before[0]! + 1, before[1]! + 1]);
    const [entry] = await rows("SELECT actor FROM audit_log WHERE action = 'member.pii_read' AND target = ? ORDER BY id DESC LIMIT 1", [other]);
    expect(entry.actor).toBe('support-9');
  });

  it('writes nothing for masked reads or a member reading their own record', async () => {
    const before = await piiReads(id);
    expect((await gql(svc.url, `query($a: ID!) { member(id: $a) { phone } }`, { a: id }, await tokenFor([Role.OPERATOR]))).data.member.phone).toBe('+86131****0001');
    await gql(svc.url, `{ me { phone name } }`, undefined, await tokenFor([Role.MEMBER], { kind: 'member', sub: id }));
    expect(await piiReads(id)).toBe(before);
  });
});
