import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventType, type MemberStatusChanged } from '@membergraph/contracts';
import { STREAMS, newId, Role } from '@membergraph/platform';
import { envelopeFrom, memberEvents, serviceUnderTest, startApp, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { SagaStep } from '../src/services/checkout.service';
import { auditLedger } from '../src/services/ledger-audit.service';
import { projectMemberStatus } from '../src/services/wallet-account.service';
import { DEBIT, REFUND, TOP_UP, count, financeToken, gqlAs, ledgerFootprint, memberToken, openMember, payClient, topUpInput, walletOf } from './helpers';
import { fakePoints, type FakePoints } from './checkout-doubles';

/** The member service's statuses reach the wallet as events; FROZEN, BLACKLISTED and ERASED members move no money in or out. */
const ENV = { RISK_VELOCITY_MAX_PAYMENTS: '0', PAYMENT_LEASE_MS: '1000', RPC_TIMEOUT_MS: '500' };
const svc = serviceUnderTest('wallet', createApp, { probe: STREAMS.member, probeName: 'wallet-status-test', env: ENV });
const CONSUMER = 'wallet-member';
const ds = () => svc.app.kit.ds;
const yuan = (y: number) => y * 100;

const PAY = `mutation($input: PayInput!) { pay(input: $input) { id status failureReason } }`;
const REFUND_PAYMENT = `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { id amount } }`;
const ISSUE = `mutation($input: IssueCardBatchInput!) { issueCardBatch(input: $input) { id cards { number pin } } }`;
const ACTIVATE = `mutation($input: ActivateCardsInput!) { activateCards(input: $input) { number } }`;
const BIND = `mutation($input: BindCardInput!) { bindCard(input: $input) { number status } }`;
const GIFT = `mutation($input: GiftCardInput!) { giftCard(input: $input) { number giftedTo } }`;
const payer = () => tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'pos', scopes: ['wallet:pay', 'wallet:refund'] });

let points: FakePoints;
beforeAll(async () => {
  points = await fakePoints(svc.scope);
});
afterAll(async () => {
  await points?.close();
});

/** Publishes a status change as the member service would (at `changedAt`) and waits until the wallet has applied it. */
async function statusBecomes(memberId: string, to: MemberStatusChanged['to'], changedAt = new Date()) {
  const event = envelopeFrom<MemberStatusChanged>('member', EventType.MemberStatusChanged, memberId, { memberId, from: 'ACTIVE', to, changedAt: changedAt.toISOString() });
  await svc.probe.consumed(CONSUMER, await svc.probe.publish(event));
}

async function activeCards(n: number, kind = 'PHYSICAL') {
  const res = await gqlAs(svc.url, ISSUE, { input: { count: n, faceValue: yuan(50), kind, expiresAt: new Date(Date.now() + 86_400_000).toISOString() } }, financeToken());
  await gqlAs(svc.url, ACTIVATE, { input: { batchId: res.data.issueCardBatch.id, idempotencyKey: newId() } }, financeToken());
  return res.data.issueCardBatch.cards as Array<{ number: string; pin: string }>;
}

const payInput = (memberId: string, amount: number, extra: Record<string, unknown> = {}) => ({ memberId, orderRef: `o-${newId()}`, amount, idempotencyKey: newId(), ...extra });
const reasonOf = (res: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => res.errors?.[0]?.extensions;

describe('member status', () => {
  it('refuses top-ups, payments, debits and card binds of a FROZEN member (CONFLICT MEMBER_FROZEN), writing nothing; refunds still go back; ACTIVE again lets money move', async () => {
    const memberId = await openMember(svc.app);
    const top = (await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(500)) }, payClient())).data.topUp;
    const paid = (await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(100)) }, payer())).data.pay;
    expect(paid.status).toBe('CAPTURED');
    const [card] = await activeCards(1);
    await statusBecomes(memberId, 'FROZEN');

    const before = await ledgerFootprint(ds());
    const refused = [
      await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, payClient()),
      await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10)) }, payer()),
      await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10), { pointsToUse: 100 }) }, payer()),
      await gqlAs(svc.url, DEBIT, { input: { memberId, amount: 100, reference: 'o', idempotencyKey: newId() } }, payClient()),
      await gqlAs(svc.url, BIND, { input: { cardNumber: card!.number, pin: card!.pin, idempotencyKey: newId() } }, memberToken(memberId)),
    ];
    for (const res of refused) expect(reasonOf(res)).toMatchObject({ code: 'CONFLICT', reason: 'MEMBER_FROZEN', memberStatus: 'FROZEN' });
    expect(await ledgerFootprint(ds())).toEqual(before);
    expect(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_payment WHERE member_id = ?', [memberId])).toBe(1);
    // A refused bind is no PIN guess.
    expect(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_card_pin_failure WHERE subject = ?', [memberId])).toBe(0);

    // Money going back is never blocked.
    expect((await gqlAs(svc.url, REFUND_PAYMENT, { input: { paymentId: paid.id, amount: yuan(100), idempotencyKey: newId() } }, payer())).errors).toBeUndefined();
    expect((await gqlAs(svc.url, REFUND, { input: { topUpId: top.id, idempotencyKey: newId() } }, financeToken())).errors).toBeUndefined();

    await statusBecomes(memberId, 'ACTIVE');
    expect((await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, payClient())).errors).toBeUndefined();
    expect((await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10)) }, payer())).data.pay.status).toBe('CAPTURED');
    expect((await auditLedger(ds())).differences).toEqual([]);
  });

  it('keeps the newest status when changes arrive out of order or twice', async () => {
    const memberId = await openMember(svc.app);
    const now = Date.now();
    await statusBecomes(memberId, 'BLACKLISTED', new Date(now));
    // An older ACTIVE delivered late changes nothing.
    await statusBecomes(memberId, 'ACTIVE', new Date(now - 60_000));
    const res = await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, payClient());
    expect(reasonOf(res)).toMatchObject({ code: 'CONFLICT', reason: 'MEMBER_BLACKLISTED' });
    await statusBecomes(memberId, 'ACTIVE', new Date(now + 1));
    expect((await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, payClient())).errors).toBeUndefined();
  });

  it('closes the wallet of an erased member for good: no top-up or payment, whatever status event comes later', async () => {
    const memberId = await openMember(svc.app);
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, payClient());
    const erased = memberEvents.erased(memberId);
    await svc.probe.publish(erased);
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(erased, `${erased.id}-again`));
    await statusBecomes(memberId, 'ACTIVE', new Date(Date.now() + 60_000));
    expect(reasonOf(await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, payClient()))).toMatchObject({ code: 'CONFLICT', reason: 'MEMBER_ERASED' });
    expect(reasonOf(await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(1)) }, payer()))).toMatchObject({ code: 'CONFLICT', reason: 'MEMBER_ERASED' });
    // The balance stays for finance to pay back; the journal is untouched.
    expect(await walletOf(svc.url, memberId)).toMatchObject({ balance: yuan(110) });
  });

  it('lets no card be gifted by or to a member who is not ACTIVE', async () => {
    const [ecard] = await activeCards(1, 'ELECTRONIC');
    const giver = await openMember(svc.app);
    const friend = await openMember(svc.app);
    await statusBecomes(friend, 'BLACKLISTED');
    const gift = (from: string, to: string) => gqlAs(svc.url, GIFT, { input: { cardNumber: ecard!.number, pin: ecard!.pin, toMemberId: to, idempotencyKey: newId() } }, memberToken(from));
    expect(reasonOf(await gift(giver, friend))).toMatchObject({ code: 'CONFLICT', reason: 'MEMBER_BLACKLISTED', memberId: friend });
    await statusBecomes(giver, 'FROZEN');
    expect(reasonOf(await gift(giver, await openMember(svc.app)))).toMatchObject({ code: 'CONFLICT', reason: 'MEMBER_FROZEN', memberId: giver });
  });

  it('fails a checkout whose member is frozen after the points hold: the balance is judged under the lock and the points go back', async () => {
    // A second process whose saga pauses after the points hold, while the member service freezes the member.
    const app = await startApp(
      createApp(svc.scope.env('wallet', ENV), {
        hooks: {
          afterStep: async (step, paymentId) => {
            if (step !== SagaStep.POINTS_HELD) return;
            const [p] = await ds().query('SELECT member_id FROM wallet_payment WHERE id = ?', [paymentId]);
            await svc.app.kit.uow((em) => projectMemberStatus(em, p.member_id, 'FROZEN', new Date()));
          },
        },
      }),
    );
    try {
      const memberId = await openMember(svc.app);
      await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(500)) }, payClient());
      points.balances.set(memberId, 5_000);
      const res = await gqlAs(app.url, PAY, { input: payInput(memberId, yuan(100), { pointsToUse: 2_000 }) }, payer());
      expect(res.data.pay).toMatchObject({ status: 'FAILED', failureReason: 'MEMBER_FROZEN' });
      expect(points.available(memberId)).toBe(5_000);
      expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(560));
      expect((await auditLedger(ds())).differences).toEqual([]);
    } finally {
      await app.stop();
    }
  });
});
