import { beforeAll, describe, expect, it } from 'vitest';
import { Role, STREAMS } from '@membergraph/platform';
import { gql, memberEvents, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp, { probe: STREAMS.member });
let admin: string;
let operator: string;

const TAG = `mutation($input: TagMemberInput!) { tagMember(input: $input) { id tags { name source } } }`;
const UNTAG = `mutation($input: TagMemberInput!) { untagMember(input: $input) { id tags { name source } } }`;
const TAGS = `query($id: ID!) { member(id: $id) { tags { name source taggedAt } } }`;
const rows = (sql: string, params: unknown[] = []) => svc.app.kit.ds.query(sql, params);
const count = async (sql: string, params: unknown[] = []) => Number((await rows(sql, params))[0].n);

async function register(phone: string): Promise<string> {
  const res = await gql(svc.url, `mutation($p: String!) { registerMember(input: {phone: $p, name: "Lin Ping", channel: STORE}) { id } }`, { p: phone }, admin);
  expect(res.errors).toBeUndefined();
  return res.data.registerMember.id;
}
const tagNames = async (id: string) => ((await gql(svc.url, TAGS, { id }, admin)).data.member.tags as Array<{ name: string; source: string }>).map((t) => `${t.source}:${t.name}`);

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
  operator = await tokenFor([Role.OPERATOR], { sub: 'op-1' });
});

describe('manual tags', () => {
  it('are put on and taken off by OPERATOR, audited and announced with the complete MANUAL set', async () => {
    const id = await register('+8613000000001');
    const res = await gql(svc.url, TAG, { input: { memberId: id, tag: ' VIP ' } }, operator);
    expect(res.errors).toBeUndefined();
    expect(res.data.tagMember.tags).toEqual([{ name: 'vip', source: 'MANUAL' }]);
    await gql(svc.url, TAG, { input: { memberId: id, tag: 'vip' } }, operator);
    await gql(svc.url, TAG, { input: { memberId: id, tag: 'coffee_lover' } }, operator);
    expect((await gql(svc.url, UNTAG, { input: { memberId: id, tag: 'vip' } }, operator)).data.untagMember.tags).toEqual([{ name: 'coffee_lover', source: 'MANUAL' }]);

    const events = ((await rows("SELECT payload FROM outbox WHERE type = 'member.tags_changed' AND subject = ? ORDER BY seq", [id])) as Array<{ payload: string }>).map((r) => JSON.parse(r.payload).data.tags);
    expect(events).toEqual([['vip'], ['coffee_lover', 'vip'], ['coffee_lover']]);
    const audits = await rows("SELECT actor, action, detail FROM audit_log WHERE target = ? AND action LIKE 'member.%tag' ORDER BY id", [id]);
    expect(audits.map((a: { actor: string; action: string; detail: string }) => [a.actor, a.action, JSON.parse(a.detail).tag])).toEqual([
      ['op-1', 'member.tag', 'vip'],
      ['op-1', 'member.tag', 'coffee_lover'],
      ['op-1', 'member.untag', 'vip'],
    ]);

    const summary = await gql(svc.url, `{ tags { name source members } }`, undefined, await tokenFor([Role.ANALYST]));
    expect(summary.data.tags).toEqual([{ name: 'coffee_lover', source: 'MANUAL', members: 1 }]);
    const found = await gql(svc.url, `{ members(filter: {tag: "COFFEE_LOVER"}) { edges { node { id } } } }`, undefined, admin);
    expect(found.data.members.edges).toEqual([{ node: { id } }]);
  });

  it('refuses bad names (BAD_USER_INPUT) and roles other than OPERATOR and ADMIN', async () => {
    const id = await register('+8613000000002');
    for (const tag of ['', 'has space', 'x'.repeat(33)]) {
      expect((await gql(svc.url, TAG, { input: { memberId: id, tag } }, operator)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tag' });
    }
    for (const token of [await tokenFor([Role.SUPPORT]), await tokenFor([Role.ANALYST]), await tokenFor([Role.MEMBER], { kind: 'member', sub: id })]) {
      expect((await gql(svc.url, TAG, { input: { memberId: id, tag: 'vip' } }, token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect(await count('SELECT COUNT(*) AS n FROM member_tag WHERE member_id = ?', [id])).toBe(0);
  });
});

describe('rule tags from analytics (member.tags_changed, source RULE)', () => {
  it('replaces the member’s RULE set, ignores older sets delivered late, and leaves MANUAL tags alone', async () => {
    const id = await register('+8613000000003');
    await gql(svc.url, TAG, { input: { memberId: id, tag: 'vip' } }, operator);
    const t0 = Date.now();
    let seq = await svc.probe.publish(memberEvents.ruleTagsChanged(id, ['high_aov', 'high_frequency'], { changedAt: new Date(t0).toISOString() }));
    await svc.probe.consumed('member-tags', seq);
    expect(await tagNames(id)).toEqual(['MANUAL:vip', 'RULE:high_aov', 'RULE:high_frequency']);

    seq = await svc.probe.publish(memberEvents.ruleTagsChanged(id, ['high_aov', 'prefers_coffee'], { changedAt: new Date(t0 + 1000).toISOString() }));
    await svc.probe.consumed('member-tags', seq);
    // An older set arriving after the newer one changes nothing.
    seq = await svc.probe.publish(memberEvents.ruleTagsChanged(id, ['dormant'], { changedAt: new Date(t0 + 500).toISOString() }));
    await svc.probe.consumed('member-tags', seq);
    expect(await tagNames(id)).toEqual(['MANUAL:vip', 'RULE:high_aov', 'RULE:prefers_coffee']);
    const [kept] = await rows("SELECT tagged_at, tagged_by FROM member_tag WHERE member_id = ? AND name = 'high_aov'", [id]);
    expect({ at: kept.tagged_at.getTime(), by: kept.tagged_by }).toEqual({ at: t0, by: 'analytics' });
  });

  it('ignores sets for erased members, and erasure removes every tag', async () => {
    const id = await register('+8613000000004');
    await gql(svc.url, TAG, { input: { memberId: id, tag: 'vip' } }, operator);
    await gql(svc.url, `mutation($m: ID!) { eraseMember(input: {memberId: $m, reason: "request"}) { id } }`, { m: id }, admin);
    const seq = await svc.probe.publish(memberEvents.ruleTagsChanged(id, ['dormant']));
    await svc.probe.consumed('member-tags', seq);
    expect(await count('SELECT COUNT(*) AS n FROM member_tag WHERE member_id = ?', [id])).toBe(0);
  });
});
