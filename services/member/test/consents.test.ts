import { beforeAll, describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { gql, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp);
let admin: string;

const UPDATE = `mutation($input: UpdateConsentsInput!) { updateConsents(input: $input) { id consents { purpose channel granted policyVersion recordedAt } } }`;
const rows = (sql: string, params: unknown[] = []) => svc.app.kit.ds.query(sql, params);
const count = async (sql: string, params: unknown[] = []) => Number((await rows(sql, params))[0].n);
const events = async (id: string) =>
  ((await rows("SELECT payload FROM outbox WHERE type = 'member.consents_changed' AND subject = ? ORDER BY seq", [id])) as Array<{ payload: string }>).map((r) => JSON.parse(r.payload).data.consents);

async function register(phone: string): Promise<string> {
  const res = await gql(svc.url, `mutation($p: String!) { registerMember(input: {phone: $p, name: "Xu Zhu", channel: STORE}) { id } }`, { p: phone }, admin);
  expect(res.errors).toBeUndefined();
  return res.data.registerMember.id;
}
const memberToken = (id: string) => tokenFor([Role.MEMBER], { kind: 'member', sub: id });
const c = (purpose: string, channel: string, granted: boolean, policyVersion = '2026-01') => ({ purpose, channel, granted, policyVersion });

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
});

describe('updateConsents', () => {
  it('records decisions per purpose and channel with policy version and time, keeps the history, and emits what changed', async () => {
    const id = await register('+8613200000001');
    const self = await memberToken(id);
    const first = await gql(svc.url, UPDATE, { input: { memberId: id, consents: [c('MARKETING', 'SMS', true), c('MARKETING', 'EMAIL', false)] } }, self);
    expect(first.errors).toBeUndefined();
    expect(first.data.updateConsents.consents).toEqual([
      { ...c('MARKETING', 'EMAIL', false), recordedAt: expect.any(String) },
      { ...c('MARKETING', 'SMS', true), recordedAt: expect.any(String) },
    ]);

    // Withdrawing SMS, the same EMAIL decision again and a new policy version for ANALYTICS.
    const second = await gql(svc.url, UPDATE, { input: { memberId: id, consents: [c('MARKETING', 'SMS', false), c('MARKETING', 'EMAIL', false), c('ANALYTICS', 'PUSH', true, '2026-02')] } }, self);
    expect(second.data.updateConsents.consents.map((x: { purpose: string; channel: string; granted: boolean }) => [x.purpose, x.channel, x.granted])).toEqual([
      ['ANALYTICS', 'PUSH', true],
      ['MARKETING', 'EMAIL', false],
      ['MARKETING', 'SMS', false],
    ]);
    expect(await count('SELECT COUNT(*) AS n FROM member_consent WHERE member_id = ?', [id])).toBe(4);
    expect(await events(id)).toEqual([
      [c('MARKETING', 'SMS', true), c('MARKETING', 'EMAIL', false)],
      [c('MARKETING', 'SMS', false), c('ANALYTICS', 'PUSH', true, '2026-02')],
    ]);

    // Nothing new: nothing written, nothing emitted.
    await gql(svc.url, UPDATE, { input: { memberId: id, consents: [c('MARKETING', 'SMS', false)] } }, self);
    expect(await events(id)).toHaveLength(2);
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'member.consents_update'")).toBe(0);
  });

  it('lets SUPPORT record a decision for the member, audited', async () => {
    const id = await register('+8613200000002');
    const support = await tokenFor([Role.SUPPORT], { sub: 'support-2' });
    expect((await gql(svc.url, UPDATE, { input: { memberId: id, consents: [c('MARKETING', 'WECHAT', false)] } }, support)).errors).toBeUndefined();
    const [entry] = await rows("SELECT actor, detail FROM audit_log WHERE action = 'member.consents_update' AND target = ?", [id]);
    expect({ actor: entry.actor, detail: JSON.parse(entry.detail) }).toEqual({ actor: 'support-2', detail: { consents: [c('MARKETING', 'WECHAT', false)] } });
    const [row] = await rows('SELECT recorded_by FROM member_consent WHERE member_id = ?', [id]);
    expect(row.recorded_by).toBe('support-2');
  });

  it('rejects bad input with BAD_USER_INPUT naming the consent, and roles that may not, writing nothing', async () => {
    const id = await register('+8613200000003');
    for (const [consents, field] of [
      [[], 'consents'],
      [[c('MARKETING', 'SMS', true, '')], 'consents.0.policyVersion'],
      [[c('MARKETING', 'SMS', true, 'v 1')], 'consents.0.policyVersion'],
      [[c('MARKETING', 'SMS', true), c('MARKETING', 'SMS', false)], 'consents.1.channel'],
    ] as const) {
      expect((await gql(svc.url, UPDATE, { input: { memberId: id, consents } }, admin)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect((await gql(svc.url, UPDATE, { input: { memberId: id, consents: [c('MARKETING', 'FAX', true)] } }, admin)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const other = await register('+8613200000004');
    for (const token of [await tokenFor([Role.OPERATOR]), await tokenFor([Role.ANALYST]), await memberToken(other)]) {
      expect((await gql(svc.url, UPDATE, { input: { memberId: id, consents: [c('MARKETING', 'SMS', true)] } }, token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect(await count('SELECT COUNT(*) AS n FROM member_consent WHERE member_id = ?', [id])).toBe(0);
  });

  it('is deleted with the member on erasure', async () => {
    const id = await register('+8613200000005');
    await gql(svc.url, UPDATE, { input: { memberId: id, consents: [c('MARKETING', 'SMS', true)] } }, admin);
    await gql(svc.url, `mutation($m: ID!) { eraseMember(input: {memberId: $m, reason: "request"}) { id } }`, { m: id }, admin);
    expect(await count('SELECT COUNT(*) AS n FROM member_consent WHERE member_id = ?', [id])).toBe(0);
    const card = await gql(svc.url, `query($id: ID!) { member(id: $id) { consents { purpose } } }`, { id }, admin);
    expect(card.data.member.consents).toEqual([]);
  });
});
