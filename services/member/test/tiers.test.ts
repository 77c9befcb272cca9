import { beforeAll, describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { gql, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { DEFAULT_TIER_LADDER } from '../src/domain/tiers';

const svc = serviceUnderTest('member', createApp);
let admin: string;
let seq = 0;
const DAY = 86_400_000;

const STANDING = `query($id: ID!) { member(id: $id) { tier { code } growth annualSpend tierChangedAt } }`;
const SET_TIER = `mutation($input: SetMemberTierInput!) { setMemberTier(input: $input) { id tier { code } } }`;
const EVALUATE = `mutation($asOf: DateTime!) { runTierEvaluation(asOf: $asOf) { asOf evaluated downgraded protected alreadyEvaluated } }`;
const LADDER = `mutation($input: UpdateTierLadderInput!) { updateTierLadder(input: $input) { code name rank minAnnualSpend minGrowth } }`;

const count = async (sql: string, params: unknown[] = []) => Number((await svc.app.kit.ds.query(sql, params))[0].n);
const tierEvents = async (memberId: string) =>
  ((await svc.app.kit.ds.query("SELECT payload FROM outbox WHERE type = 'member.tier_changed' AND subject = ? ORDER BY seq", [memberId])) as Array<{ payload: string }>).map(
    (r) => JSON.parse(r.payload).data,
  );

async function newMember(): Promise<string> {
  const phone = `1390000${String(++seq).padStart(4, '0')}`;
  const res = await gql(svc.url, `mutation($p: String!) { registerMember(input: {phone: $p, name: "T", channel: STORE}) { id } }`, { p: phone }, admin);
  expect(res.errors).toBeUndefined();
  return res.data.registerMember.id;
}

async function order(memberId: string, amount: number, extra: Record<string, unknown> = {}) {
  const externalId = `T-${++seq}`;
  const res = await gql(svc.url, `mutation($input: RecordOrderInput!) { recordOrder(input: $input) { id } }`, { input: { source: 'pos', externalId, memberId, amount, channel: 'STORE', ...extra } }, admin);
  expect(res.errors).toBeUndefined();
  return externalId;
}

const standing = async (id: string) => (await gql(svc.url, STANDING, { id }, admin)).data.member;

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
});

describe('tiers', () => {
  it('lists the default ladder, lowest first, to any authenticated caller', async () => {
    const member = await tokenFor([Role.MEMBER], { kind: 'member', sub: '01ANYMEMBER000000000000000' });
    const res = await gql(svc.url, `{ tiers { code name rank minAnnualSpend minGrowth } }`, undefined, member);
    expect(res.data.tiers).toEqual(DEFAULT_TIER_LADDER);
    expect((await gql(svc.url, `{ tiers { code } }`)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('growth and upgrades', () => {
  it('earns 1 growth per yuan and upgrades at once when a threshold is crossed, in the order\'s transaction', async () => {
    const id = await newMember();
    await order(id, 99_900);
    expect(await standing(id)).toMatchObject({ tier: { code: 'MEMBER' }, growth: 999, annualSpend: 99_900, tierChangedAt: null });
    expect(await tierEvents(id)).toEqual([]);

    await order(id, 150);
    expect(await standing(id)).toMatchObject({ tier: { code: 'SILVER' }, growth: 1_000, annualSpend: 100_050 });
    expect(await tierEvents(id)).toEqual([{ memberId: id, from: 'MEMBER', to: 'SILVER', reason: 'UPGRADE', changedAt: expect.any(String) }]);
    // The upgrade's event sits right behind the order's: both were written by the same transaction.
    const [last2] = await svc.app.kit.ds.query("SELECT GROUP_CONCAT(type ORDER BY seq) AS t FROM (SELECT type, seq FROM outbox WHERE subject = ? ORDER BY seq DESC LIMIT 2) x", [id]);
    expect(last2.t).toBe('order.completed,member.tier_changed');
  });

  it('jumps several rungs in one order and announces one change', async () => {
    const id = await newMember();
    // 5,000 yuan: spend earns SILVER, but 5,000 growth (1 a yuan) earns GOLD; either threshold is enough.
    await order(id, 500_000);
    expect((await standing(id)).tier.code).toBe('GOLD');
    expect(await tierEvents(id)).toEqual([expect.objectContaining({ from: 'MEMBER', to: 'GOLD', reason: 'UPGRADE' })]);
  });

  it('upgrades once when concurrent orders cross the threshold together (the member row is locked)', async () => {
    const id = await newMember();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        gql(svc.url, `mutation($input: RecordOrderInput!) { recordOrder(input: $input) { id } }`, { input: { source: 'pos', externalId: `C-${id}-${i}`, memberId: id, amount: 30_000, channel: 'STORE' } }, admin),
      ),
    );
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(await standing(id)).toMatchObject({ tier: { code: 'SILVER' }, growth: 1_800 });
    expect(await tierEvents(id)).toEqual([expect.objectContaining({ from: 'MEMBER', to: 'SILVER', reason: 'UPGRADE' })]);
  });

  it('counts only orders of the rolling 12 months', async () => {
    const id = await newMember();
    await order(id, 600_000, { completedAt: new Date(Date.now() - 400 * DAY).toISOString() });
    expect(await standing(id)).toMatchObject({ tier: { code: 'MEMBER' }, growth: 0, annualSpend: 0 });
  });

  it('takes growth and spend back on refund, proportionally, without moving the tier down', async () => {
    const id = await newMember();
    const ext = await order(id, 150_000);
    expect(await standing(id)).toMatchObject({ tier: { code: 'SILVER' }, growth: 1_500, annualSpend: 150_000 });
    const refund = `mutation($input: RecordRefundInput!) { recordRefund(input: $input) { id } }`;
    await gql(svc.url, refund, { input: { source: 'pos', externalOrderId: ext, refundId: `RF-${seq}`, amount: 60_050 } }, admin);
    expect(await standing(id)).toMatchObject({ tier: { code: 'SILVER' }, growth: 899, annualSpend: 89_950 });
    await gql(svc.url, refund, { input: { source: 'pos', externalOrderId: ext, refundId: `RF-${seq}-2`, amount: 89_950 } }, admin);
    expect(await standing(id)).toMatchObject({ tier: { code: 'SILVER' }, growth: 0, annualSpend: 0 });
    expect(await tierEvents(id)).toHaveLength(1);
  });
});

describe('setMemberTier', () => {
  it('lets ADMIN and OPERATOR set a tier with a reason: audited, announced as MANUAL', async () => {
    const id = await newMember();
    const operator = await tokenFor([Role.OPERATOR], { sub: 'op-1' });
    const res = await gql(svc.url, SET_TIER, { input: { memberId: id, tier: 'GOLD', reason: 'VIP complaint' } }, operator);
    expect(res.errors).toBeUndefined();
    expect(res.data.setMemberTier.tier.code).toBe('GOLD');
    expect(await tierEvents(id)).toEqual([expect.objectContaining({ from: 'MEMBER', to: 'GOLD', reason: 'MANUAL' })]);
    const [entry] = await svc.app.kit.ds.query("SELECT actor, detail FROM audit_log WHERE action = 'member.tier_set' AND target = ?", [id]);
    expect({ actor: entry.actor, detail: JSON.parse(entry.detail) }).toEqual({ actor: 'op-1', detail: { from: 'MEMBER', to: 'GOLD', reason: 'VIP complaint' } });
  });

  it('requires a reason and a known tier (BAD_USER_INPUT, nothing written), and a role that may', async () => {
    const id = await newMember();
    const outbox = await count('SELECT COUNT(*) AS n FROM outbox');
    expect((await gql(svc.url, SET_TIER, { input: { memberId: id, tier: 'GOLD', reason: '  ' } }, admin)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect((await gql(svc.url, SET_TIER, { input: { memberId: id, tier: 'PLATINUM', reason: 'x' } }, admin)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tier' });
    for (const role of [Role.SUPPORT, Role.ANALYST, Role.MEMBER]) {
      const t = await tokenFor([role], role === Role.MEMBER ? { kind: 'member', sub: id } : {});
      expect((await gql(svc.url, SET_TIER, { input: { memberId: id, tier: 'GOLD', reason: 'x' } }, t)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect(await count('SELECT COUNT(*) AS n FROM outbox')).toBe(outbox);
    expect((await standing(id)).tier.code).toBe('MEMBER');
  });
});

describe('runTierEvaluation', () => {
  it('keeps members inside the protection period and downgrades them after it, once per day', async () => {
    const manual = await newMember();
    await gql(svc.url, SET_TIER, { input: { memberId: manual, tier: 'GOLD', reason: 'trial' } }, admin);
    const earned = await newMember();
    await order(earned, 500_000);
    // growth 5,000 -> GOLD through growth; spend 5,000 yuan alone would be SILVER
    expect((await standing(earned)).tier.code).toBe('GOLD');

    const soon = new Date(Date.now() + 30 * DAY).toISOString();
    const first = await gql(svc.url, EVALUATE, { asOf: soon }, admin);
    expect(first.errors).toBeUndefined();
    expect(first.data.runTierEvaluation).toMatchObject({ downgraded: 0, alreadyEvaluated: 0 });
    expect(first.data.runTierEvaluation.protected).toBeGreaterThanOrEqual(1);
    expect((await standing(manual)).tier.code).toBe('GOLD');

    // 91 days on: the manual GOLD with no spend goes down; the buyer still qualifies (order in the window).
    const later = new Date(Date.now() + 91 * DAY).toISOString();
    const second = await gql(svc.url, EVALUATE, { asOf: later }, admin);
    expect(second.data.runTierEvaluation.downgraded).toBeGreaterThanOrEqual(1);
    expect((await standing(manual)).tier.code).toBe('MEMBER');
    expect((await standing(earned)).tier.code).toBe('GOLD');
    expect((await tierEvents(manual)).at(-1)).toEqual({ memberId: manual, from: 'GOLD', to: 'MEMBER', reason: 'DOWNGRADE', changedAt: expect.any(String) });

    const events = await count("SELECT COUNT(*) AS n FROM outbox WHERE type = 'member.tier_changed'");
    const again = await gql(svc.url, EVALUATE, { asOf: later }, admin);
    expect(again.data.runTierEvaluation).toMatchObject({ evaluated: 0, downgraded: 0 });
    expect(again.data.runTierEvaluation.alreadyEvaluated).toBe(second.data.runTierEvaluation.evaluated - second.data.runTierEvaluation.downgraded);
    expect(await count("SELECT COUNT(*) AS n FROM outbox WHERE type = 'member.tier_changed'")).toBe(events);

    // A year and a month on, the order has left the window: down to what the member still earns.
    const yearOn = new Date(Date.now() + 400 * DAY).toISOString();
    await gql(svc.url, EVALUATE, { asOf: yearOn }, admin);
    expect((await standing(earned)).tier.code).toBe('MEMBER');
    expect(await count("SELECT COUNT(*) AS n FROM tier_evaluation WHERE member_id = ? AND outcome = 'DOWNGRADE'", [earned])).toBe(1);
  });

  it('never undoes a tier set after the evaluated day', async () => {
    const id = await newMember();
    await gql(svc.url, SET_TIER, { input: { memberId: id, tier: 'SILVER', reason: 'promo' } }, admin);
    const res = await gql(svc.url, EVALUATE, { asOf: new Date(Date.now() - 200 * DAY).toISOString() }, admin);
    expect(res.errors).toBeUndefined();
    expect((await standing(id)).tier.code).toBe('SILVER');
    expect(await count("SELECT COUNT(*) AS n FROM tier_evaluation WHERE member_id = ? AND outcome = 'CHANGED_AFTER'", [id])).toBe(1);
  });

  it('is ADMIN only', async () => {
    const operator = await tokenFor([Role.OPERATOR]);
    expect((await gql(svc.url, EVALUATE, { asOf: new Date().toISOString() }, operator)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('updateTierLadder', () => {
  const ladder = DEFAULT_TIER_LADDER.map((t) => ({ ...t }));

  it('is ADMIN only and validates the whole ladder, writing nothing when refused', async () => {
    const operator = await tokenFor([Role.OPERATOR]);
    expect((await gql(svc.url, LADDER, { input: { tiers: ladder } }, operator)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bad = ladder.map((t, i) => (i === 2 ? { ...t, minAnnualSpend: 1 } : t));
    expect((await gql(svc.url, LADDER, { input: { tiers: bad } }, admin)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tiers.2.minAnnualSpend' });
    const badEntry = ladder.map((t, i) => (i === 0 ? { ...t, minGrowth: 10 } : t));
    expect((await gql(svc.url, LADDER, { input: { tiers: badEntry } }, admin)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await gql(svc.url, `{ tiers { code } }`, undefined, admin)).data.tiers.map((t: { code: string }) => t.code)).toEqual(['MEMBER', 'SILVER', 'GOLD', 'DIAMOND']);
  });

  it('refuses to remove a tier members hold', async () => {
    const id = await newMember();
    await gql(svc.url, SET_TIER, { input: { memberId: id, tier: 'DIAMOND', reason: 'x' } }, admin);
    const res = await gql(svc.url, LADDER, { input: { tiers: ladder.slice(0, 3) } }, admin);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tiers' });
    expect(res.errors?.[0]?.message).toContain('DIAMOND');
    await gql(svc.url, SET_TIER, { input: { memberId: id, tier: 'GOLD', reason: 'x' } }, admin);
  });

  it('replaces the ladder (audited); new thresholds apply to the next order', async () => {
    const next = [
      { code: 'MEMBER', name: 'Member', rank: 0, minAnnualSpend: 0, minGrowth: 0 },
      { code: 'SILVER', name: 'Silver', rank: 1, minAnnualSpend: 10_000, minGrowth: 50 },
      { code: 'GOLD', name: 'Gold', rank: 2, minAnnualSpend: 2_000_000, minGrowth: 5_000 },
      { code: 'DIAMOND', name: 'Diamond', rank: 3, minAnnualSpend: 5_000_000, minGrowth: 10_000 },
      { code: 'BLACK', name: 'Black Card', rank: 10, minAnnualSpend: 50_000_000, minGrowth: 100_000 },
    ];
    const res = await gql(svc.url, LADDER, { input: { tiers: next } }, admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.updateTierLadder).toEqual(next);
    expect((await gql(svc.url, `{ tiers { code minGrowth } }`, undefined, admin)).data.tiers.map((t: { code: string }) => t.code)).toEqual(['MEMBER', 'SILVER', 'GOLD', 'DIAMOND', 'BLACK']);
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'tier.ladder_update'")).toBe(1);
    const id = await newMember();
    await order(id, 10_000);
    expect((await standing(id)).tier.code).toBe('SILVER');
  });

  it('starts the very next registration on a new entry tier and shows a renamed tier at once', async () => {
    const before = await newMember();
    const current: Array<{ code: string; name: string; rank: number; minAnnualSpend: number; minGrowth: number }> = (
      await gql(svc.url, `{ tiers { code name rank minAnnualSpend minGrowth } }`, undefined, admin)
    ).data.tiers;
    const next = [
      { code: 'STARTER', name: 'Starter', rank: 0, minAnnualSpend: 0, minGrowth: 0 },
      ...current.map((t, i) => ({ ...t, rank: t.rank + 1, ...(i === 0 ? { name: 'Member, renamed', minAnnualSpend: 1, minGrowth: 1 } : {}) })),
    ];
    expect((await gql(svc.url, LADDER, { input: { tiers: next } }, admin)).errors).toBeUndefined();
    expect((await gql(svc.url, `query($id: ID!) { member(id: $id) { tier { code name } } }`, { id: before }, admin)).data.member.tier).toEqual({ code: 'MEMBER', name: 'Member, renamed' });
    expect((await standing(await newMember())).tier.code).toBe('STARTER');
  });
});
