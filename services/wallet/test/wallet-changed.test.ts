import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, Role, STREAMS, decodeEnvelope } from '@membergraph/platform';
import { eventually, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { REFUND, TOP_UP, financeToken, gqlAs, memberToken, openMember, payClient, topUpInput } from './helpers';
import { fakePoints, type FakePoints } from './checkout-doubles';

/**
 * Every journal that moves a member's sub-balances announces `wallet.changed` (ids and amounts, the
 * balances after), written to the outbox in the journal's transaction and relayed to the WALLET stream.
 */
const svc = serviceUnderTest('wallet', createApp, { env: { RISK_VELOCITY_MAX_PAYMENTS: '0', RPC_TIMEOUT_MS: '500' } });
const ds = () => svc.app.kit.ds;
const yuan = (y: number) => y * 100;
const PAY = `mutation($input: PayInput!) { pay(input: $input) { id status failureReason } }`;
const REFUND_PAYMENT = `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { id } }`;
const payer = () => tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'pos', scopes: ['wallet:pay', 'wallet:refund'] });

let points: FakePoints;
beforeAll(async () => {
  points = await fakePoints(svc.scope);
});
afterAll(async () => {
  await points?.close();
});

interface Changed {
  memberId: string;
  journalId: string;
  kind: string;
  reference: string;
  principalDelta: number;
  bonusDelta: number;
  principal: number;
  bonus: number;
}

/** The member's wallet.changed events in the outbox, oldest first, once the relay has sent them all. */
async function changes(memberId: string): Promise<Changed[]> {
  return eventually(async () => {
    const rows: Array<{ payload: string; sent_at: Date | null }> = await ds().query("SELECT payload, sent_at FROM outbox WHERE type = 'wallet.changed' AND subject = ? ORDER BY seq", [memberId]);
    expect(rows.every((r) => r.sent_at !== null)).toBe(true);
    return rows.map((r) => JSON.parse(r.payload).data as Changed);
  });
}

/** The journal each event names exists with that kind and reference. */
async function journalOf(c: Changed) {
  const [j] = await ds().query('SELECT kind, reference, member_id FROM wallet_journal WHERE id = ?', [c.journalId]);
  return j;
}

/** The event with this journal id, read back from the WALLET stream. */
async function onStream(journalId: string) {
  const bus = svc.app.kit.bus;
  const stream = bus.streamName(STREAMS.wallet.name);
  const info = await bus.jsm.streams.info(stream);
  for (let seq = info.state.last_seq; seq >= info.state.first_seq; seq--) {
    const msg = await bus.jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!msg) continue;
    const env = decodeEnvelope(msg.data);
    if (env.type === 'wallet.changed' && (env.data as Changed).journalId === journalId) return env;
  }
  return null;
}

describe('wallet.changed', () => {
  it('announces a CARD_LOAD with the face value as principal', async () => {
    const issued = await gqlAs(svc.url, `mutation($input: IssueCardBatchInput!) { issueCardBatch(input: $input) { id cards { number pin } } }`, { input: { count: 1, faceValue: yuan(50), kind: 'PHYSICAL', expiresAt: new Date(Date.now() + 86_400_000).toISOString() } }, financeToken());
    const { id: batchId, cards } = issued.data.issueCardBatch;
    await gqlAs(svc.url, `mutation($input: ActivateCardsInput!) { activateCards(input: $input) { number } }`, { input: { batchId, idempotencyKey: newId() } }, financeToken());
    const memberId = await openMember(svc.app);
    const bound = await gqlAs(svc.url, `mutation($input: BindCardInput!) { bindCard(input: $input) { number } }`, { input: { cardNumber: cards[0].number, pin: cards[0].pin, idempotencyKey: newId() } }, memberToken(memberId));
    expect(bound.errors).toBeUndefined();
    const [load] = await changes(memberId);
    expect(load).toEqual({ memberId, journalId: expect.any(String), kind: 'CARD_LOAD', reference: cards[0].number, principalDelta: yuan(50), bonusDelta: 0, principal: yuan(50), bonus: 0 });
    expect(await journalOf(load!)).toEqual({ kind: 'CARD_LOAD', reference: cards[0].number, member_id: memberId });
    await eventually(async () => expect((await onStream(load!.journalId))?.data).toEqual(load));
  });

  it('announces a TOP_UP_REFUND taking the principal and the bonus back', async () => {
    const memberId = await openMember(svc.app);
    const top = (await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(500)) }, payClient())).data.topUp;
    const refund = (await gqlAs(svc.url, REFUND, { input: { topUpId: top.id, idempotencyKey: newId() } }, financeToken())).data.refundTopUp;
    const events = await changes(memberId);
    expect(events.map((e) => e.kind)).toEqual(['TOP_UP', 'TOP_UP_REFUND']);
    expect(events[1]).toEqual({ memberId, journalId: expect.any(String), kind: 'TOP_UP_REFUND', reference: refund.id, principalDelta: -yuan(500), bonusDelta: -yuan(60), principal: 0, bonus: 0 });
    expect(await journalOf(events[1]!)).toMatchObject({ kind: 'TOP_UP_REFUND', reference: refund.id });
    await eventually(async () => expect((await onStream(events[1]!.journalId))?.data).toEqual(events[1]));
  });

  it('announces a PAYMENT_REFUND giving the balance back where it came from', async () => {
    const memberId = await openMember(svc.app);
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, payClient()); // 100 + 10 bonus
    const paid = (await gqlAs(svc.url, PAY, { input: { memberId, orderRef: 'o', amount: yuan(105), idempotencyKey: newId() } }, payer())).data.pay;
    expect(paid.status).toBe('CAPTURED');
    const refund = (await gqlAs(svc.url, REFUND_PAYMENT, { input: { paymentId: paid.id, amount: yuan(105), idempotencyKey: newId() } }, payer())).data.refundPayment;
    const events = await changes(memberId);
    expect(events.map((e) => e.kind)).toEqual(['TOP_UP', 'PAYMENT_CAPTURE', 'PAYMENT_REFUND']);
    expect(events[1]).toMatchObject({ reference: paid.id, principalDelta: -yuan(100), bonusDelta: -yuan(5), principal: 0, bonus: yuan(5) });
    expect(events[2]).toEqual({ memberId, journalId: expect.any(String), kind: 'PAYMENT_REFUND', reference: refund.id, principalDelta: yuan(100), bonusDelta: yuan(5), principal: yuan(100), bonus: yuan(10) });
    await eventually(async () => expect((await onStream(events[2]!.journalId))?.data).toEqual(events[2]));
  });

  it('announces the PAYMENT_HOLD and the PAYMENT_RELEASE of a checkout that turned back (its capture publishes nothing)', async () => {
    const memberId = await openMember(svc.app);
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, payClient());
    points.balances.set(memberId, 5_000);
    points.behaviour.capture = 'refuse';
    let paid;
    try {
      paid = (await gqlAs(svc.url, PAY, { input: { memberId, orderRef: 'o', amount: yuan(100), pointsToUse: 2_000, idempotencyKey: newId() } }, payer())).data.pay;
    } finally {
      points.behaviour.capture = 'normal';
    }
    expect(paid).toMatchObject({ status: 'FAILED', failureReason: 'POINTS_CAPTURE_REFUSED' });
    const events = await changes(memberId);
    expect(events.map((e) => e.kind)).toEqual(['TOP_UP', 'PAYMENT_HOLD', 'PAYMENT_RELEASE']);
    expect(events[1]).toMatchObject({ reference: paid.id, principalDelta: -yuan(80), bonusDelta: 0, principal: yuan(20), bonus: yuan(10) });
    expect(events[2]).toEqual({ memberId, journalId: expect.any(String), kind: 'PAYMENT_RELEASE', reference: paid.id, principalDelta: yuan(80), bonusDelta: 0, principal: yuan(100), bonus: yuan(10) });
    await eventually(async () => expect((await onStream(events[2]!.journalId))?.data).toEqual(events[2]));
  });
});
