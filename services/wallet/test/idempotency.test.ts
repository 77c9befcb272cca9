import { describe, expect, it } from 'vitest';
import { newId, Role } from '@membergraph/platform';
import { startApp, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { REFUND, TOP_UP, count, financeToken, gqlAs, memberToken, openMember, payClient, topUpInput } from './helpers';

/**
 * Every mutation that moves money or cards is idempotent by its key: the same key and input
 * return the first result, also from a second process on the same database (nothing in memory
 * carries the key), and another input under the key is CONFLICT with nothing done.
 */
const svc = serviceUnderTest('wallet', createApp, { env: { RISK_VELOCITY_MAX_PAYMENTS: '0' } });
const ds = () => svc.app.kit.ds;
const yuan = (y: number) => y * 100;

const ISSUE = `mutation($input: IssueCardBatchInput!) { issueCardBatch(input: $input) { id cards { number pin } } }`;
const ACTIVATE = `mutation($input: ActivateCardsInput!) { activateCards(input: $input) { number status } }`;
const VOID = `mutation($input: VoidCardInput!) { voidCard(input: $input) { number status } }`;
const BIND = `mutation($input: BindCardInput!) { bindCard(input: $input) { number status boundMemberId boundAt } }`;
const GIFT = `mutation($input: GiftCardInput!) { giftCard(input: $input) { number status giftedTo } }`;
const FREEZE = `mutation($input: WalletStatusInput!) { freezeWallet(input: $input) { status balance principal bonus } }`;
const UNFREEZE = `mutation($input: WalletStatusInput!) { unfreezeWallet(input: $input) { status balance principal bonus } }`;
const RULES = `mutation($input: TopUpRulesInput!) { updateTopUpRules(input: $input) { tiers { threshold bonus } firstTopUpBonus birthdayMonthBonus updatedAt updatedBy } }`;
const PAY = `mutation($input: PayInput!) { pay(input: $input) { id status } }`;
const REFUND_PAYMENT = `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { id paymentId amount toPrincipal toBonus createdAt } }`;

type Call = (url: string) => Promise<{ data?: Record<string, unknown>; errors?: Array<{ extensions?: Record<string, unknown> }> }>;

/**
 * `first` runs once; then the same request on this app and on a second app started on the same
 * database both return exactly the first answer, and `changed` (same key, other input) on the
 * second app is CONFLICT on `idempotencyKey`.
 */
async function replaysAcrossRestart(field: string, first: Call, changed: Call) {
  const original = await first(svc.url);
  expect(original.errors).toBeUndefined();
  expect((await first(svc.url)).data?.[field]).toEqual(original.data?.[field]);
  const other = await startApp(createApp(svc.scope.env('wallet', { RISK_VELOCITY_MAX_PAYMENTS: '0' })));
  try {
    expect((await first(other.url)).data?.[field]).toEqual(original.data?.[field]);
    const conflict = await changed(other.url);
    expect(conflict.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
  } finally {
    await other.stop();
  }
  return original.data?.[field];
}

const inAYear = () => new Date(Date.now() + 365 * 86_400_000).toISOString();
async function issue(n: number, kind = 'PHYSICAL', activate = true) {
  const res = await gqlAs(svc.url, ISSUE, { input: { count: n, faceValue: yuan(100), kind, expiresAt: inAYear() } }, financeToken());
  expect(res.errors).toBeUndefined();
  const batch = res.data.issueCardBatch as { id: string; cards: Array<{ number: string; pin: string }> };
  if (activate) expect((await gqlAs(svc.url, ACTIVATE, { input: { batchId: batch.id, idempotencyKey: newId() } }, financeToken())).errors).toBeUndefined();
  return batch;
}
const audits = (action: string, target: string) => count(ds(), 'SELECT COUNT(*) AS n FROM audit_log WHERE action = ? AND target = ?', [action, target]);

describe('idempotency keys', () => {
  it('bindCard: one load per key, the card again on a retry (also after a restart), CONFLICT for another card', async () => {
    const [card, otherCard] = (await issue(2)).cards;
    const memberId = await openMember(svc.app);
    const key = newId();
    const bind = (c: { number: string; pin: string }) => (url: string) => gqlAs(url, BIND, { input: { cardNumber: c.number, pin: c.pin, idempotencyKey: key } }, memberToken(memberId));
    const bound = await replaysAcrossRestart('bindCard', bind(card!), bind(otherCard!));
    expect(bound).toMatchObject({ status: 'BOUND', boundMemberId: memberId });
    expect(await count(ds(), "SELECT COUNT(*) AS n FROM wallet_journal WHERE kind = 'CARD_LOAD' AND member_id = ?", [memberId])).toBe(1);
    expect(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_card WHERE number = ? AND status = ?', [otherCard!.number, 'ACTIVE'])).toBe(1);
    // The key does not carry the PIN: a wrong PIN under it is judged (and counted) as a wrong PIN.
    const wrong = await gqlAs(svc.url, BIND, { input: { cardNumber: card!.number, pin: card!.pin === '00000000' ? '11111111' : '00000000', idempotencyKey: key } }, memberToken(memberId));
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'pin' });
    const [row] = await ds().query("SELECT fingerprint FROM idempotency_key WHERE operation = 'bindCard' AND idem_key = ?", [key]);
    expect(row.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('giftCard: the gift again on a retry (also after a restart), CONFLICT for another recipient', async () => {
    const [ecard] = (await issue(1, 'ELECTRONIC')).cards;
    const giver = await openMember(svc.app);
    const friend = await openMember(svc.app);
    const stranger = await openMember(svc.app);
    const key = newId();
    const gift = (to: string) => (url: string) => gqlAs(url, GIFT, { input: { cardNumber: ecard!.number, pin: ecard!.pin, toMemberId: to, idempotencyKey: key } }, memberToken(giver));
    expect(await replaysAcrossRestart('giftCard', gift(friend), gift(stranger))).toMatchObject({ status: 'ACTIVE', giftedTo: friend });
  });

  it('activateCards: activated and audited once per key, CONFLICT for another batch', async () => {
    const batch = await issue(2, 'PHYSICAL', false);
    const other = await issue(1, 'PHYSICAL', false);
    const key = newId();
    const activate = (batchId: string) => (url: string) => gqlAs(url, ACTIVATE, { input: { batchId, idempotencyKey: key } }, financeToken());
    const cards = await replaysAcrossRestart('activateCards', activate(batch.id), activate(other.id));
    expect(cards).toEqual(batch.cards.map((c) => ({ number: c.number, status: 'ACTIVE' })).sort((a, b) => a.number.localeCompare(b.number)));
    expect(await audits('CARDS_ACTIVATED', batch.id)).toBe(1);
    expect(await count(ds(), "SELECT COUNT(*) AS n FROM wallet_card WHERE batch_id = ? AND status = 'INACTIVE'", [other.id])).toBe(1);
  });

  it('voidCard: voided and audited once per key, CONFLICT for another reason', async () => {
    const [card] = (await issue(1)).cards;
    const key = newId();
    const voidIt = (reason: string) => (url: string) => gqlAs(url, VOID, { input: { cardNumber: card!.number, reason, idempotencyKey: key } }, financeToken());
    expect(await replaysAcrossRestart('voidCard', voidIt('lost'), voidIt('stolen'))).toEqual({ number: card!.number, status: 'VOID' });
    expect(await audits('CARD_VOIDED', card!.number)).toBe(1);
  });

  it('freezeWallet and unfreezeWallet: the first answer again (also after a restart), audited once, CONFLICT for another reason', async () => {
    const memberId = await openMember(svc.app);
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, payClient());
    const freezeKey = newId();
    const freeze = (reason: string) => (url: string) => gqlAs(url, FREEZE, { input: { memberId, reason, idempotencyKey: freezeKey } }, financeToken());
    expect(await replaysAcrossRestart('freezeWallet', freeze('fraud suspected'), freeze('other'))).toEqual({ status: 'FROZEN', balance: yuan(110), principal: yuan(100), bonus: yuan(10) });
    const unfreezeKey = newId();
    const unfreeze = (reason: string) => (url: string) => gqlAs(url, UNFREEZE, { input: { memberId, reason, idempotencyKey: unfreezeKey } }, financeToken());
    expect(await replaysAcrossRestart('unfreezeWallet', unfreeze('cleared'), unfreeze('other'))).toMatchObject({ status: 'ACTIVE' });
    // The first answer, not today's state: a replay of the freeze still says FROZEN.
    expect((await freeze('fraud suspected')(svc.url)).data?.freezeWallet).toMatchObject({ status: 'FROZEN' });
    expect(await audits('WALLET_FROZEN', memberId)).toBe(1);
    expect(await audits('WALLET_UNFROZEN', memberId)).toBe(1);
  });

  it('updateTopUpRules: the rules as first saved (also after a restart, and after newer rules), CONFLICT for other rules', async () => {
    const key = newId();
    const tiers = [{ threshold: yuan(100), bonus: yuan(12) }];
    const update = (bonus: number) => (url: string) => gqlAs(url, RULES, { input: { tiers, firstTopUpBonus: bonus, multipliers: [], idempotencyKey: key } }, financeToken());
    const saved = await replaysAcrossRestart('updateTopUpRules', update(yuan(1)), update(yuan(2)));
    expect(saved).toMatchObject({ tiers, firstTopUpBonus: yuan(1), birthdayMonthBonus: 0, updatedBy: 'finance-1' });
    // Put the defaults back under a new key; the old key still replays what it saved.
    const defaults = [{ threshold: yuan(100), bonus: yuan(10) }, { threshold: yuan(500), bonus: yuan(60) }, { threshold: yuan(1_000), bonus: yuan(150) }];
    expect((await gqlAs(svc.url, RULES, { input: { tiers: defaults, firstTopUpBonus: 0, multipliers: [], idempotencyKey: newId() } }, tokenFor([Role.ADMIN]))).errors).toBeUndefined();
    expect((await update(yuan(1))(svc.url)).data?.updateTopUpRules).toEqual(saved);
    expect(await count(ds(), "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'TOP_UP_RULES_UPDATED'")).toBe(2);
  });

  it('refundTopUp: the first refund again after a restart, CONFLICT for another top-up', async () => {
    const memberId = await openMember(svc.app);
    const a = (await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(500)) }, payClient())).data.topUp;
    const b = (await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, payClient())).data.topUp;
    const key = newId();
    const refund = (topUpId: string) => (url: string) => gqlAs(url, REFUND, { input: { topUpId, idempotencyKey: key } }, financeToken());
    expect(await replaysAcrossRestart('refundTopUp', refund(a.id), refund(b.id))).toMatchObject({ topUpId: a.id, principalReturned: yuan(500), bonusTakenBack: yuan(60) });
    expect(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_top_up_refund WHERE member_id = ?', [memberId])).toBe(1);
  });

  it('refundPayment: the first refund again after a restart, CONFLICT for another amount', async () => {
    const memberId = await openMember(svc.app);
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(500)) }, payClient());
    const pay = await gqlAs(svc.url, PAY, { input: { memberId, orderRef: `o-${newId()}`, amount: yuan(200), idempotencyKey: newId() } }, memberToken(memberId));
    expect(pay.data.pay.status).toBe('CAPTURED');
    const key = newId();
    const refund = (amount: number) => (url: string) => gqlAs(url, REFUND_PAYMENT, { input: { paymentId: pay.data.pay.id, amount, idempotencyKey: key } }, financeToken());
    expect(await replaysAcrossRestart('refundPayment', refund(yuan(50)), refund(yuan(60)))).toMatchObject({ paymentId: pay.data.pay.id, amount: yuan(50), toPrincipal: yuan(50) });
    expect(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_payment_refund WHERE payment_id = ?', [pay.data.pay.id])).toBe(1);
  });
});
