import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@membergraph/platform';
import { serviceUnderTest } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { calendarMonth } from '../src/domain/top-up';
import { REFUND, TOP_UP, financeToken, gqlAs, ledgerFootprint, memberToken, openMember, payClient, topUpInput } from './helpers';
import { fakeMember, type FakeMember } from './checkout-doubles';

const TIME_ZONE = 'Asia/Shanghai';
const svc = serviceUnderTest('wallet', createApp, { env: { RPC_TIMEOUT_MS: '300', BUSINESS_TIME_ZONE: TIME_ZONE } });
const ds = () => svc.app.kit.ds;
const yuan = (y: number) => y * 100;

const UPDATE = `mutation($input: TopUpRulesInput!) { updateTopUpRules(input: $input) { birthdayMonthBonus birthdayMonthMinAmount } }`;
const TOP_UP_BIRTHDAY = TOP_UP.replace('bonus ', 'bonus birthdayBonus ');
const PREVIEW = `query($m: ID!, $a: Fen!) { previewTopUp(memberId: $m, amount: $a) { principal bonus } }`;
const DEFAULT_TIERS = [
  { threshold: yuan(100), bonus: yuan(10) },
  { threshold: yuan(500), bonus: yuan(60) },
  { threshold: yuan(1_000), bonus: yuan(150) },
];

let member: FakeMember;
beforeAll(async () => {
  member = await fakeMember(svc.scope);
});
afterAll(async () => {
  await member?.close();
});

/** The month it is now in the tenant's calendar, and another one. */
const thisMonth = () => calendarMonth(new Date(), TIME_ZONE).month;
const otherMonth = () => (thisMonth() % 12) + 1;

async function setRules(birthdayMonthBonus: number, birthdayMonthMinAmount = 0) {
  const res = await gqlAs(svc.url, UPDATE, { input: { tiers: DEFAULT_TIERS, firstTopUpBonus: 0, multipliers: [], birthdayMonthBonus, birthdayMonthMinAmount, idempotencyKey: newId() } }, financeToken());
  expect(res.errors).toBeUndefined();
}

async function bornThisMonth() {
  const memberId = await openMember(svc.app);
  member.birthMonths.set(memberId, thisMonth());
  return memberId;
}

const topUp = async (memberId: string, amount: number, extra: Record<string, unknown> = {}) => gqlAs(svc.url, TOP_UP_BIRTHDAY, { input: topUpInput(memberId, amount, extra) }, payClient());

describe('the birthday-month top-up bonus', () => {
  it('is never asked for while the rules grant none', async () => {
    const memberId = await bornThisMonth();
    const res = await topUp(memberId, yuan(100));
    expect(res.data.topUp).toMatchObject({ bonus: yuan(10), birthdayBonus: 0 });
    expect(member.birthMonthRequests).not.toContain(memberId);
  });

  it('adds the extra to the first top-up of the minimum or more in the birth month (tenant calendar), once per month', async () => {
    await setRules(yuan(20), yuan(100));
    const memberId = await bornThisMonth();
    // Under the minimum: no extra, and the member service is not even asked.
    expect((await topUp(memberId, yuan(99))).data.topUp).toMatchObject({ bonus: 0, birthdayBonus: 0 });
    expect(member.birthMonthRequests).not.toContain(memberId);
    const first = await topUp(memberId, yuan(100));
    expect(first.errors).toBeUndefined();
    expect(first.data.topUp).toMatchObject({ bonus: yuan(10) + yuan(20), birthdayBonus: yuan(20) });
    expect(member.birthMonthRequests).toContain(memberId);
    // Refunding it does not make the extra due again.
    expect((await gqlAs(svc.url, REFUND, { input: { topUpId: first.data.topUp.id, idempotencyKey: newId() } }, payClient())).errors).toBeUndefined();
    expect((await topUp(memberId, yuan(500))).data.topUp).toMatchObject({ bonus: yuan(60), birthdayBonus: 0 });
    const [row] = await ds().query('SELECT SUM(birthday_bonus) AS b FROM wallet_top_up WHERE member_id = ?', [memberId]);
    expect(Number(row.b)).toBe(yuan(20));
  });

  it('is not added outside the birth month, for an unknown birth month, or when the member service does not know the member', async () => {
    await setRules(yuan(20));
    const otherMonthMember = await openMember(svc.app);
    member.birthMonths.set(otherMonthMember, otherMonth());
    const unknown = await openMember(svc.app);
    for (const m of [otherMonthMember, unknown]) expect((await topUp(m, yuan(100))).data.topUp).toMatchObject({ bonus: yuan(10), birthdayBonus: 0 });
    member.behaviour.birthMonth = 'refuse';
    try {
      const m = await bornThisMonth();
      expect((await topUp(m, yuan(100))).data.topUp).toMatchObject({ bonus: yuan(10), birthdayBonus: 0 });
    } finally {
      member.behaviour.birthMonth = 'normal';
    }
  });

  it('settles concurrent top-ups of one member into one birthday extra', async () => {
    await setRules(yuan(20));
    const memberId = await bornThisMonth();
    const results = await Promise.all(Array.from({ length: 6 }, () => topUp(memberId, yuan(100))));
    expect(results.every((r) => !r.errors)).toBe(true);
    expect(results.filter((r) => r.data.topUp.birthdayBonus === yuan(20)).length).toBe(1);
  });

  it('shows in previewTopUp', async () => {
    await setRules(yuan(20));
    const memberId = await bornThisMonth();
    const preview = await gqlAs(svc.url, PREVIEW, { m: memberId, a: yuan(100) }, memberToken(memberId));
    expect(preview.data.previewTopUp).toEqual({ principal: yuan(100), bonus: yuan(30) });
  });

  it('refuses the top-up as retryable (UNAVAILABLE, MEMBER_UNAVAILABLE) while the member service is silent, writing nothing; the retry with the same key gets the extra', async () => {
    await setRules(yuan(20));
    const memberId = await bornThisMonth();
    const input = topUpInput(memberId, yuan(100));
    const before = await ledgerFootprint(ds());
    member.behaviour.birthMonth = 'silent';
    try {
      const res = await gqlAs(svc.url, TOP_UP_BIRTHDAY, { input }, payClient());
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNAVAILABLE', reason: 'MEMBER_UNAVAILABLE', retryAfterSeconds: 1 });
      const preview = await gqlAs(svc.url, PREVIEW, { m: memberId, a: yuan(100) }, memberToken(memberId));
      expect(preview.errors?.[0]?.extensions).toMatchObject({ code: 'UNAVAILABLE', reason: 'MEMBER_UNAVAILABLE' });
    } finally {
      member.behaviour.birthMonth = 'normal';
    }
    expect(await ledgerFootprint(ds())).toEqual(before);
    const retry = await gqlAs(svc.url, TOP_UP_BIRTHDAY, { input }, payClient());
    expect(retry.errors).toBeUndefined();
    expect(retry.data.topUp).toMatchObject({ bonus: yuan(30), birthdayBonus: yuan(20) });

    // Once loaded, a replay of the key needs no answer from the member service.
    member.behaviour.birthMonth = 'silent';
    try {
      const replay = await gqlAs(svc.url, TOP_UP_BIRTHDAY, { input }, payClient());
      expect(replay.data.topUp).toEqual(retry.data.topUp);
    } finally {
      member.behaviour.birthMonth = 'normal';
    }
  });

  it('puts the rules back to the defaults', async () => {
    await setRules(0);
  });
});
