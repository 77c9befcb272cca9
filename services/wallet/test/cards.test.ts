import { describe, expect, it } from 'vitest';
import { newId, Role } from '@membergraph/platform';
import { serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { luhnValid } from '../src/domain/card';
import { sealJournals } from '../src/services/ledger-sealer.service';
import { AUDIT, count, financeToken, gqlAs, memberToken, openMember, walletOf } from './helpers';

const svc = serviceUnderTest('wallet', createApp);
const ds = () => svc.app.kit.ds;
const yuan = (y: number) => y * 100;

const ISSUE = `mutation($input: IssueCardBatchInput!) { issueCardBatch(input: $input) { id kind count faceValue cards { number pin } } }`;
const ACTIVATE = `mutation($input: ActivateCardsInput!) { activateCards(input: $input) { number status } }`;
const VOID = `mutation($input: VoidCardInput!) { voidCard(input: $input) { number status } }`;
const BIND = `mutation($input: BindCardInput!) { bindCard(input: $input) { number status boundMemberId faceValue } }`;
const GIFT = `mutation($input: GiftCardInput!) { giftCard(input: $input) { number status giftedTo } }`;
const CARD = `query($n: String!) { storedValueCard(number: $n) { number status boundMemberId giftedTo } }`;

const inAYear = () => new Date(Date.now() + 365 * 86_400_000).toISOString();

async function issue(count: number, faceValue: number, kind = 'PHYSICAL', activate = true) {
  const res = await gqlAs(svc.url, ISSUE, { input: { count, faceValue, kind, expiresAt: inAYear() } }, financeToken());
  expect(res.errors).toBeUndefined();
  const batch = res.data.issueCardBatch;
  if (activate) expect((await gqlAs(svc.url, ACTIVATE, { input: { batchId: batch.id, idempotencyKey: newId() } }, financeToken())).errors).toBeUndefined();
  return batch as { id: string; cards: Array<{ number: string; pin: string }> };
}

const bind = (memberId: string, cardNumber: string, pin: string, idempotencyKey = newId()) => gqlAs(svc.url, BIND, { input: { cardNumber, pin, idempotencyKey } }, memberToken(memberId));
const wrongPin = (pin: string) => (pin === '00000000' ? '11111111' : '00000000');

async function auditOk() {
  expect((await gqlAs(svc.url, AUDIT, {}, financeToken())).data.walletAudit).toMatchObject({ ok: true, differences: [] });
}

describe('stored-value cards', () => {
  it('issues unguessable Luhn-checked numbers with PINs shown once and stored only as scrypt hashes', async () => {
    const batch = await issue(3, yuan(100), 'PHYSICAL', false);
    expect(batch).toMatchObject({ kind: 'PHYSICAL', count: 3, faceValue: yuan(100) });
    for (const c of batch.cards) {
      expect(c.number).toMatch(/^88\d{17}$/);
      expect(luhnValid(c.number)).toBe(true);
      expect(c.pin).toMatch(/^\d{8}$/);
    }
    const rows: Array<{ pin_hash: string; status: string }> = await ds().query('SELECT pin_hash, status FROM wallet_card WHERE batch_id = ?', [batch.id]);
    expect(rows.every((r) => r.pin_hash.startsWith('scrypt$') && r.status === 'INACTIVE')).toBe(true);
    expect(rows.some((r) => batch.cards.some((c) => r.pin_hash.includes(c.pin)))).toBe(false);
    expect(await count(ds(), "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'CARD_BATCH_ISSUED' AND target = ?", [batch.id])).toBe(1);
    // Only finance issues.
    const member = await openMember(svc.app);
    const denied = await gqlAs(svc.url, ISSUE, { input: { count: 1, faceValue: 100, kind: 'PHYSICAL', expiresAt: inAYear() } }, memberToken(member));
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bad = await gqlAs(svc.url, ISSUE, { input: { count: 501, faceValue: 100, kind: 'PHYSICAL', expiresAt: inAYear() } }, financeToken());
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'count' });
  });

  it('loads the face value exactly once when bound, as a balanced CARD_LOAD journal', async () => {
    const [card] = (await issue(1, yuan(200))).cards;
    const memberId = await openMember(svc.app);
    const first = await bind(memberId, card!.number, card!.pin);
    expect(first.errors).toBeUndefined();
    expect(first.data.bindCard).toMatchObject({ status: 'BOUND', boundMemberId: memberId });
    // A repeat by the same member returns the card and loads nothing more.
    const again = await bind(memberId, card!.number, card!.pin);
    expect(again.data.bindCard.status).toBe('BOUND');
    expect(await walletOf(svc.url, memberId)).toMatchObject({ balance: yuan(200), principal: yuan(200), bonus: 0 });
    const other = await openMember(svc.app);
    const taken = await bind(other, card!.number, card!.pin);
    expect(taken.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CARD_BOUND' });
    // System balances move when the sealer chains the journal (every 100 ms): seal now rather than wait.
    await sealJournals(ds());
    const [float] = await ds().query("SELECT balance FROM wallet_system_account WHERE code = 'CARD_FLOAT'");
    expect(Number(float.balance)).toBeLessThanOrEqual(-yuan(200));
    await auditOk();
  });

  it('binds a card once when the same member and another race for it', async () => {
    const [card] = (await issue(1, yuan(50))).cards;
    const a = await openMember(svc.app);
    const b = await openMember(svc.app);
    const results = await Promise.all([bind(a, card!.number, card!.pin), bind(b, card!.number, card!.pin), bind(a, card!.number, card!.pin)]);
    const loaded = (await walletOf(svc.url, a)).balance + (await walletOf(svc.url, b)).balance;
    expect(loaded).toBe(yuan(50));
    expect(await count(ds(), "SELECT COUNT(*) AS n FROM wallet_journal WHERE kind = 'CARD_LOAD' AND reference = ?", [card!.number])).toBe(1);
    expect(results.filter((r) => !r.errors).length).toBeGreaterThanOrEqual(1);
  });

  it('refuses cards that are inactive, voided or expired', async () => {
    const [inactive, toVoid] = (await issue(2, yuan(10), 'PHYSICAL', false)).cards;
    const memberId = await openMember(svc.app);
    expect((await bind(memberId, inactive!.number, inactive!.pin)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CARD_INACTIVE' });
    expect((await gqlAs(svc.url, VOID, { input: { cardNumber: toVoid!.number, reason: 'lost in transit', idempotencyKey: newId() } }, financeToken())).data.voidCard.status).toBe('VOID');
    expect((await bind(memberId, toVoid!.number, toVoid!.pin)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CARD_VOID' });
    await ds().query('UPDATE wallet_card SET expires_at = ?, status = ? WHERE number = ?', [new Date(Date.now() - 1000), 'ACTIVE', inactive!.number]);
    expect((await gqlAs(svc.url, CARD, { n: inactive!.number }, financeToken())).data.storedValueCard.status).toBe('EXPIRED');
    expect((await bind(memberId, inactive!.number, inactive!.pin)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CARD_EXPIRED' });
    expect((await walletOf(svc.url, memberId)).balance).toBe(0);
  });

  it('throttles wrong PINs per card: the sixth try within the hour is RATE_LIMITED, even with the right PIN', async () => {
    const [card] = (await issue(1, yuan(10))).cards;
    const members = await Promise.all([1, 2, 3].map(() => openMember(svc.app)));
    for (let i = 0; i < 5; i++) {
      const res = await bind(members[i % 3]!, card!.number, wrongPin(card!.pin));
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'pin' });
    }
    const limited = await bind(members[0]!, card!.number, card!.pin);
    expect(limited.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    // A typo in the number (Luhn) is not a guess and counts nothing.
    expect((await bind(members[1]!, `${card!.number.slice(0, -1)}${(Number(card!.number.at(-1)) + 1) % 10}`, card!.pin)).errors?.[0]?.extensions?.field).toBe('cardNumber');
  });

  it('throttles wrong PINs per member across cards, also when they guess concurrently', async () => {
    const cards = (await issue(4, yuan(10))).cards;
    const memberId = await openMember(svc.app);
    const tries = await Promise.all(Array.from({ length: 8 }, (_, i) => bind(memberId, cards[i % 4]!.number, wrongPin(cards[i % 4]!.pin))));
    expect(tries.filter((r) => r.errors?.[0]?.extensions?.code === 'BAD_USER_INPUT')).toHaveLength(5);
    expect(tries.filter((r) => r.errors?.[0]?.extensions?.code === 'RATE_LIMITED')).toHaveLength(3);
    expect((await bind(memberId, cards[3]!.number, cards[3]!.pin)).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    // Another member is not affected.
    expect((await bind(await openMember(svc.app), cards[3]!.number, cards[3]!.pin)).errors).toBeUndefined();
  });

  it('lets an e-card be gifted before binding: then only the recipient may bind it', async () => {
    const [ecard] = (await issue(1, yuan(300), 'ELECTRONIC')).cards;
    const [physical] = (await issue(1, yuan(300), 'PHYSICAL')).cards;
    const giver = await openMember(svc.app);
    const friend = await openMember(svc.app);
    const gift = (cardNumber: string, pin: string, to: string) => gqlAs(svc.url, GIFT, { input: { cardNumber, pin, toMemberId: to, idempotencyKey: newId() } }, memberToken(giver));
    expect((await gift(physical!.number, physical!.pin, friend)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'NOT_ELECTRONIC' });
    const res = await gift(ecard!.number, ecard!.pin, friend);
    expect(res.data.giftCard).toMatchObject({ status: 'ACTIVE', giftedTo: friend });
    expect((await bind(giver, ecard!.number, ecard!.pin)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CARD_GIFTED' });
    expect((await bind(friend, ecard!.number, ecard!.pin)).data.bindCard).toMatchObject({ status: 'BOUND', boundMemberId: friend });
    expect(await walletOf(svc.url, friend)).toMatchObject({ balance: yuan(300), principal: yuan(300) });
    expect((await walletOf(svc.url, giver)).balance).toBe(0);
    await auditOk();
  });

  it('lets only members bind, for their own wallet', async () => {
    const staff = await gqlAs(svc.url, BIND, { input: { cardNumber: '8800000000000000000', pin: '1', idempotencyKey: newId() } }, tokenFor([Role.ADMIN]));
    expect(staff.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anon = await gqlAs(svc.url, BIND, { input: { cardNumber: '8800000000000000000', pin: '1', idempotencyKey: newId() } }, '');
    expect(anon.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
