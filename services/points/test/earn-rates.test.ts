import { beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, Role, newId } from '@membergraph/platform';
import { gql, memberEvents, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { localDate } from '@membergraph/platform';

// No welcome bonus: every entry is an order's. No daily caps on orders (the default).
const svc = serviceUnderTest('points', createApp, {
  probe: STREAMS.member,
  probeName: 'points-earn-rates-test',
  env: { WELCOME_POINTS: '0', HOLD_SWEEP_INTERVAL_MS: '0', DAILY_JOBS_CHECK_INTERVAL_MS: '0' },
});
const CONSUMER = 'points-member';
const DAY = 86_400_000;
const TZ = 'Asia/Shanghai';

const RULES = `{ earnRules { basePointsPerYuan storeRates { storeId pointsPerYuan } categoryRates { category perMille } promotions { code expiryDays } version } }`;
const UPDATE = `mutation($input: EarnRulesInput!) { updateEarnRules(input: $input) {
  version storeRates { storeId pointsPerYuan } categoryRates { category perMille } promotions { code multiplierPerMille dayOfMonth expiryDays } } }`;

const { orderCompleted } = memberEvents;
const code = (res: { errors?: Array<{ extensions?: { code?: string } }> }) => res.errors?.[0]?.extensions?.code;
let operator: string;

const TIERS = [
  { tier: 'MEMBER', perMille: 1000 },
  { tier: 'GOLD', perMille: 1500 },
];
const RATES = {
  basePointsPerYuan: 1,
  tierMultipliers: TIERS,
  promotions: [],
  storeRates: [
    { storeId: 'flagship', pointsPerYuan: 3 },
    { storeId: 'outlet', pointsPerYuan: 0 },
  ],
  categoryRates: [
    { category: 'cosmetics', perMille: 2000 },
    { category: 'tobacco', perMille: 0 },
  ],
};

async function saveRules(input: Record<string, unknown>) {
  const res = await gql(svc.url, UPDATE, { input }, operator);
  expect(res.errors).toBeUndefined();
  return res.data.updateEarnRules;
}

/** Publishes the order and waits until points has applied it; returns its EARN entry (null when it earned nothing). */
async function earn(memberId: string, amount: number, overrides: Parameters<typeof orderCompleted>[2] = {}) {
  const event = orderCompleted(memberId, amount, overrides);
  await svc.probe.consumed(CONSUMER, await svc.probe.publish(event));
  const [entry] = await svc.app.kit.ds.query<Array<{ id: string; amount: string }>>("SELECT id, amount FROM points_entry WHERE reference = ? AND type = 'EARN'", [
    event.data.orderId,
  ]);
  return entry ? { id: entry.id, amount: Number(entry.amount) } : null;
}

async function lotOf(entryId: string) {
  const [lot] = await svc.app.kit.ds.query<Array<{ earned_at: Date; expires_at: Date }>>('SELECT earned_at, expires_at FROM points_lot WHERE entry_id = ?', [entryId]);
  return { earnedAt: new Date(lot!.earned_at), expiresAt: new Date(lot!.expires_at) };
}

beforeAll(async () => {
  operator = await tokenFor([Role.OPERATOR], { sub: 'op-rates' });
});

describe('store and category earning rates', () => {
  it('are saved with the rules and read back; rules saved without them have none', async () => {
    expect(await saveRules(RATES)).toMatchObject({ storeRates: RATES.storeRates, categoryRates: RATES.categoryRates });
    const read = await gql(svc.url, RULES, {}, operator);
    expect(read.data.earnRules).toMatchObject({ storeRates: RATES.storeRates, categoryRates: RATES.categoryRates });
    // A client that does not know the rates replaces the rules without them.
    expect(await saveRules({ basePointsPerYuan: 1, tierMultipliers: TIERS, promotions: [] })).toMatchObject({ storeRates: [], categoryRates: [] });
  });

  it('refuses bad rates with BAD_USER_INPUT naming the field, saving nothing', async () => {
    const before = (await gql(svc.url, RULES, {}, operator)).data.earnRules.version;
    const cases: Array<[string, Record<string, unknown>]> = [
      ['storeRates[1].storeId', { storeRates: [{ storeId: 's1', pointsPerYuan: 1 }, { storeId: 's1', pointsPerYuan: 2 }] }],
      ['storeRates[0].pointsPerYuan', { storeRates: [{ storeId: 's1', pointsPerYuan: 1001 }] }],
      ['categoryRates[0].category', { categoryRates: [{ category: '', perMille: 1000 }] }],
      ['categoryRates[0].perMille', { categoryRates: [{ category: 'toys', perMille: -1 }] }],
      ['promotions[0].expiryDays', { promotions: [{ code: 'P', name: 'P', multiplierPerMille: 1000, expiryDays: 0 }] }],
    ];
    for (const [field, change] of cases) {
      const res = await gql(svc.url, UPDATE, { input: { ...RATES, ...change } }, operator);
      expect(code(res)).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions).toMatchObject({ field });
    }
    expect((await gql(svc.url, RULES, {}, operator)).data.earnRules.version).toBe(before);
  });

  it('earns at the store rate, weighting the lines by their category rates on their share of the amount paid', async () => {
    await saveRules(RATES);
    const memberId = newId();
    // Lines worth 300 yuan (200 cosmetics x2, 100 tobacco x0), 150 yuan paid after a discount, at the
    // flagship (3 per yuan): 150 x 3 x (200 x 2 + 100 x 0) / 300 = 600.
    const lines = [
      { sku: 'LIP-1', category: 'cosmetics', quantity: 2, amount: 20_000 },
      { sku: 'CIG-1', category: 'tobacco', quantity: 1, amount: 10_000 },
    ];
    expect(await earn(memberId, 15_000, { storeId: 'flagship', lines })).toMatchObject({ amount: 600 });
    // The same lines elsewhere earn at the base rate: 150 x 1 x 4/3 = 200.
    expect(await earn(memberId, 15_000, { storeId: 's9', lines })).toMatchObject({ amount: 200 });
    // No lines: the whole order at the store's rate; an outlet earns nothing at all (no entry).
    expect(await earn(memberId, 15_000, { storeId: 'flagship' })).toMatchObject({ amount: 450 });
    expect(await earn(memberId, 15_000, { storeId: 'outlet', lines })).toBeNull();
    // Lines worth less than was paid (shipping) earn on what was paid, at the lines' average rate: 150 x 1 x 2 = 300.
    expect(await earn(memberId, 15_000, { storeId: null, lines: [{ sku: 'LIP-2', category: 'cosmetics', quantity: 1, amount: 14_000 }] })).toMatchObject({ amount: 300 });
  });

  it('stacks the member\'s tier on top of the store and category rates', async () => {
    const memberId = newId();
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(memberEvents.tierChanged(memberId, 'MEMBER', 'GOLD')));
    // 100 yuan of cosmetics at the flagship: 100 x 3 x 2 = 600, GOLD x1.5 = 900.
    expect(await earn(memberId, 10_000, { storeId: 'flagship', lines: [{ sku: 'LIP-1', category: 'cosmetics', quantity: 1, amount: 10_000 }] })).toMatchObject({
      amount: 900,
    });
  });
});

describe('a promotion with its own expiry', () => {
  it('makes the lot of an order it applies to expire after its days when that is sooner than the policy', async () => {
    const today = localDate(new Date(), TZ).day;
    await saveRules({ ...RATES, storeRates: [], categoryRates: [], promotions: [{ code: 'FLASH', name: 'Flash double', multiplierPerMille: 2000, dayOfMonth: today, expiryDays: 30 }] });
    const memberId = newId();
    const promoted = await earn(memberId, 10_000);
    expect(promoted).toMatchObject({ amount: 200 });
    const lot = await lotOf(promoted!.id);
    expect(lot.expiresAt.getTime() - lot.earnedAt.getTime()).toBe(30 * DAY);
    // Completed two days ago (another day of the month): no promotion, the policy's 12 months.
    const plain = await earn(memberId, 10_000, { completedAt: new Date(Date.now() - 2 * DAY).toISOString() });
    expect(plain).toMatchObject({ amount: 100 });
    const policyLot = await lotOf(plain!.id);
    expect(policyLot.expiresAt.getTime() - policyLot.earnedAt.getTime()).toBeGreaterThan(360 * DAY);
    // Its award row keeps the limit for a lot credited later (return window, review).
    const [award] = await svc.app.kit.ds.query<Array<{ lot_expiry_days: number | null }>>('SELECT lot_expiry_days FROM points_award WHERE entry_id = ?', [promoted!.id]);
    expect(award).toEqual({ lot_expiry_days: 30 });
  });

  it('never lengthens the policy: a promotion longer than 12 months leaves the policy expiry', async () => {
    const today = localDate(new Date(), TZ).day;
    await saveRules({ ...RATES, storeRates: [], categoryRates: [], promotions: [{ code: 'LONG', name: 'Long', multiplierPerMille: 1000, dayOfMonth: today, expiryDays: 3000 }] });
    const entry = await earn(newId(), 10_000);
    const lot = await lotOf(entry!.id);
    expect(lot.expiresAt.getTime() - lot.earnedAt.getTime()).toBeLessThan(367 * DAY);
  });
});

describe('the rules in force', () => {
  it('earns by rules saved after an earlier order: the process keeps the rules of the saved version only', async () => {
    const memberId = newId();
    await saveRules({ ...RATES, storeRates: [], categoryRates: [], basePointsPerYuan: 1 });
    expect(await earn(memberId, 10_000)).toMatchObject({ amount: 100 });
    // The next order reads the new version with its facts and earns by the new rate at once.
    const saved = await saveRules({ ...RATES, storeRates: [], categoryRates: [], basePointsPerYuan: 2 });
    expect(await earn(memberId, 10_000)).toMatchObject({ amount: 200 });
    const again = await saveRules({ ...RATES, storeRates: [], categoryRates: [], basePointsPerYuan: 1 });
    expect(again.version).toBe(saved.version + 1);
    expect(await earn(memberId, 10_000)).toMatchObject({ amount: 100 });
  });
});
