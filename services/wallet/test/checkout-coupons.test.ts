import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role, newId } from '@membergraph/platform';
import { eventually, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { businessDayStart } from '../src/domain/checkout';
import { sealJournals } from '../src/services/ledger-sealer.service';
import { AUDIT, TOP_UP, financeToken, gqlAs, memberToken, openMember, payClient, topUpInput, walletOf } from './helpers';
import { fakeMarketing, fakeMember, fakePoints, type FakeMarketing, type FakeMember, type FakePoints } from './checkout-doubles';

const ENV = { PAYMENT_LEASE_MS: '1000', PAYMENT_RECOVERY_INTERVAL_MS: '200', RPC_TIMEOUT_MS: '500', PAYMENT_OTP_THRESHOLD: '100000000' };
const svc = serviceUnderTest('wallet', createApp, { env: ENV });
const yuan = (y: number) => y * 100;

const PAY = `mutation($input: PayInput!) { pay(input: $input) { id status amount walletAmount pointsUsed pointsValue couponDiscount couponCode storeId fromPrincipal fromBonus failureReason } }`;
const REFUND = `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { id amount points pointsStatus pointsRestored payment { refundedAmount refundedPoints } } }`;
const PAYMENT = `query($id: ID!) { payment(id: $id) { id status failureReason } }`;
const RECON = `query($date: String!, $storeId: String) { walletReconciliation(date: $date, storeId: $storeId) {
  date storeId from topUps { count principal bonus } topUpRefunds { count } spends { count principal bonus } refunds { count principal bonus points }
  cardLoads { count amount } outstandingLiability settlement { storeId collected redeemed net } } }`;
const ORDER_PAYMENTS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Order { id payments { id memberId status amount } } } }`;

let points: FakePoints;
let member: FakeMember;
let marketing: FakeMarketing;
beforeAll(async () => {
  points = await fakePoints(svc.scope);
  member = await fakeMember(svc.scope);
  marketing = await fakeMarketing(svc.scope);
});
afterAll(async () => {
  await points?.close();
  await member?.close();
  await marketing?.close();
});

const payToken = () => tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'pos', scopes: ['wallet:pay', 'wallet:refund'] });
const payInput = (memberId: string, amount: number, extra: Record<string, unknown> = {}) => ({ memberId, orderRef: `order-${newId()}`, amount, idempotencyKey: `p-${newId()}`, ...extra });

async function richMember(pts = 0, storeId?: string): Promise<string> {
  const memberId = await openMember(svc.app);
  const input = storeId ? topUpInput(memberId, yuan(1_000), { channel: 'STORE', storeId }) : topUpInput(memberId, yuan(1_000));
  expect((await gqlAs(svc.url, TOP_UP, { input }, payClient())).errors).toBeUndefined();
  points.balances.set(memberId, pts);
  return memberId;
}

function coupon(memberId: string, discount: number): string {
  const code = `C${newId().slice(-10)}`;
  marketing.coupons.set(code, { memberId, discount, status: 'ISSUED', paymentId: null });
  return code;
}

async function auditOk() {
  expect((await gqlAs(svc.url, AUDIT, {}, financeToken())).data.walletAudit).toMatchObject({ ok: true, differences: [] });
}

describe('checkout with a coupon', () => {
  it('locks the coupon first, pays the rest with points and balance, and redeems it on capture', async () => {
    const memberId = await richMember(10_000);
    const code = coupon(memberId, yuan(50));
    const res = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(300), { pointsToUse: 5_000, couponCode: code, storeId: 'S1' }) }, payToken());
    expect(res.errors).toBeUndefined();
    expect(res.data.pay).toMatchObject({ status: 'CAPTURED', couponDiscount: yuan(50), couponCode: code, storeId: 'S1', pointsValue: yuan(50), walletAmount: yuan(200), fromPrincipal: yuan(200) });
    expect(marketing.coupons.get(code)).toMatchObject({ status: 'REDEEMED', paymentId: res.data.pay.id });
    expect(points.balances.get(memberId)).toBe(5_000);
    expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(950));
    await auditOk();
  });

  it('fails the payment and holds nothing when the coupon is refused', async () => {
    const memberId = await richMember(10_000);
    const other = await richMember();
    const code = coupon(other, yuan(50));
    const res = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(300), { pointsToUse: 1_000, couponCode: code }) }, payToken());
    expect(res.data.pay).toMatchObject({ status: 'FAILED', failureReason: 'COUPON_REFUSED' });
    expect(points.available(memberId)).toBe(10_000);
    expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(1_150));
  });

  it('releases the coupon when a later step fails (balance short after the discount)', async () => {
    const memberId = await richMember();
    const code = coupon(memberId, yuan(100));
    const res = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(1_300), { couponCode: code }) }, payToken());
    expect(res.data.pay).toMatchObject({ status: 'FAILED', failureReason: 'INSUFFICIENT_FUNDS' });
    expect(marketing.coupons.get(code)).toMatchObject({ status: 'ISSUED', paymentId: null });
    // With the discount it fits: 1,250 - 100 = 1,150.
    const ok = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(1_250), { couponCode: code }) }, payToken());
    expect(ok.data.pay).toMatchObject({ status: 'CAPTURED', walletAmount: yuan(1_150) });
    expect((await walletOf(svc.url, memberId)).balance).toBe(0);
    await auditOk();
  });

  it('turns back and restores a redeemed coupon when the points capture is refused', async () => {
    const memberId = await richMember(10_000);
    const code = coupon(memberId, yuan(10));
    points.behaviour.capture = 'refuse';
    try {
      const res = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(100), { pointsToUse: 1_000, couponCode: code }) }, payToken());
      expect(res.data.pay).toMatchObject({ status: 'FAILED', failureReason: 'POINTS_CAPTURE_REFUSED' });
    } finally {
      points.behaviour.capture = 'normal';
    }
    expect(marketing.coupons.get(code)).toMatchObject({ status: 'ISSUED' });
    expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(1_150));
  });

  it('leaves a payment whose coupon release gets no answer RELEASING, and recovery finishes it', async () => {
    const memberId = await richMember();
    const code = coupon(memberId, yuan(10));
    marketing.behaviour.release = 'silent';
    const res = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(5_000), { couponCode: code }) }, payToken());
    expect(res.data.pay).toMatchObject({ status: 'RELEASING', failureReason: 'INSUFFICIENT_FUNDS' });
    marketing.behaviour.release = 'normal';
    await eventually(async () => expect((await gqlAs(svc.url, PAYMENT, { id: res.data.pay.id }, payToken())).data.payment.status).toBe('FAILED'));
    expect(marketing.coupons.get(code)?.status).toBe('ISSUED');
  });
});

describe('refunds give points and coupons back', () => {
  it('gives points back proportionally, all of them and the coupon on the full refund', async () => {
    const memberId = await richMember(10_000);
    const code = coupon(memberId, yuan(20));
    const paid = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(320), { pointsToUse: 10_000, couponCode: code }) }, payToken());
    expect(paid.data.pay).toMatchObject({ status: 'CAPTURED', walletAmount: yuan(200) });
    expect(points.balances.get(memberId)).toBe(0);
    const refund = (amount: number) => gqlAs(svc.url, REFUND, { input: { paymentId: paid.data.pay.id, amount, idempotencyKey: `r-${newId()}` } }, financeToken());
    const third = await refund(yuan(66));
    expect(third.data.refundPayment).toMatchObject({ points: 3_300, pointsStatus: 'DONE', pointsRestored: 3_300, payment: { refundedPoints: 3_300 } });
    expect(marketing.coupons.get(code)?.status).toBe('REDEEMED');
    const rest = await refund(yuan(134));
    expect(rest.data.refundPayment).toMatchObject({ points: 6_700, pointsStatus: 'DONE', payment: { refundedAmount: yuan(200), refundedPoints: 10_000 } });
    expect(points.balances.get(memberId)).toBe(10_000);
    expect(marketing.coupons.get(code)).toMatchObject({ status: 'ISSUED', paymentId: null });
    await auditOk();
  });

  it('keeps a points give-back without an answer PENDING, and recovery completes it once', async () => {
    const memberId = await richMember(1_000);
    const paid = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(100), { pointsToUse: 1_000 }) }, payToken());
    points.behaviour.refundHold = 'silent';
    const res = await gqlAs(svc.url, REFUND, { input: { paymentId: paid.data.pay.id, amount: yuan(90), idempotencyKey: `r-${newId()}` } }, financeToken());
    expect(res.data.refundPayment).toMatchObject({ points: 1_000, pointsStatus: 'PENDING' });
    points.behaviour.refundHold = 'normal';
    await eventually(async () => {
      const [row] = await svc.app.kit.ds.query('SELECT points_step FROM wallet_payment_refund WHERE id = ?', [res.data.refundPayment.id]);
      expect(row.points_step).toBe('DONE');
    });
    expect(points.balances.get(memberId)).toBe(1_000);
    expect(points.giveBacks.size).toBeGreaterThan(0);
  });
});

describe('Order.payments', () => {
  it('lists the payments of an order: all for staff, only their own for a member', async () => {
    const memberId = await richMember();
    const orderRef = newId();
    const failed = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(5_000), { orderRef, couponCode: coupon(memberId, 100) }) }, payToken());
    expect(failed.data.pay.status).toBe('FAILED');
    const ok = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10), { orderRef }) }, payToken());
    const staff = await gqlAs(svc.url, ORDER_PAYMENTS, { reps: [{ __typename: 'Order', id: orderRef }] }, financeToken());
    expect(staff.data._entities[0].payments.map((p: { id: string }) => p.id)).toEqual([failed.data.pay.id, ok.data.pay.id]);
    const own = await gqlAs(svc.url, ORDER_PAYMENTS, { reps: [{ __typename: 'Order', id: orderRef }] }, memberToken(memberId));
    expect(own.data._entities[0].payments).toHaveLength(2);
    const stranger = await gqlAs(svc.url, ORDER_PAYMENTS, { reps: [{ __typename: 'Order', id: orderRef }] }, memberToken(newId()));
    expect(stranger.data._entities[0].payments).toEqual([]);
  });
});

describe('reconciliation', () => {
  it('reports the day per store with cross-store settlement, and streams the journal as CSV to finance only', async () => {
    const store = `ST${newId().slice(-8)}`;
    const elsewhere = `SE${newId().slice(-8)}`;
    const date = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
    const before = (await gqlAs(svc.url, RECON, { date }, financeToken())).data.walletReconciliation;
    const memberId = await richMember(0, store);
    const paid = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(300), { storeId: elsewhere }) }, payToken());
    await gqlAs(svc.url, REFUND, { input: { paymentId: paid.data.pay.id, amount: yuan(100), idempotencyKey: `r-${newId()}` } }, financeToken());

    const atStore = (await gqlAs(svc.url, RECON, { date, storeId: store }, financeToken())).data.walletReconciliation;
    expect(atStore).toMatchObject({ storeId: store, topUps: { count: 1, principal: yuan(1_000), bonus: yuan(150) }, spends: { count: 0 }, settlement: [{ storeId: store, collected: yuan(1_000), redeemed: 0, net: -yuan(1_000) }] });
    const atOther = (await gqlAs(svc.url, RECON, { date, storeId: elsewhere }, financeToken())).data.walletReconciliation;
    expect(atOther).toMatchObject({ spends: { count: 1, principal: yuan(300), bonus: 0 }, refunds: { count: 1, principal: yuan(100) }, settlement: [{ storeId: elsewhere, collected: 0, redeemed: yuan(200), net: yuan(200) }] });
    const all = (await gqlAs(svc.url, RECON, { date }, financeToken())).data.walletReconciliation;
    expect(all.topUps.principal - before.topUps.principal).toBe(yuan(1_000));
    // The liability moved by exactly what entered and left members' balances today (nothing else runs in this file now).
    expect(all.outstandingLiability - before.outstandingLiability).toBe(yuan(1_150) - yuan(300) + yuan(100));
    // The cached system balances are the sealed journals' (the sealer runs every 100 ms): seal first.
    await sealJournals(svc.app.kit.ds);
    const [liab] = await svc.app.kit.ds.query("SELECT balance FROM wallet_system_account WHERE code = 'SV_LIABILITY'");
    expect(all.outstandingLiability).toBe(Number(liab.balance));
    expect(businessDayStart(new Date(), 'Asia/Shanghai').getTime()).toBe(new Date(all.from ?? businessDayStart(new Date(), 'Asia/Shanghai')).getTime());

    const base = svc.url.replace(/\/graphql$/, '');
    const csv = await fetch(`${base}/reconciliation.csv?date=${date}&storeId=${elsewhere}`, { headers: { authorization: `Bearer ${await financeToken()}` } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe('seq,journal_id,created_at,kind,member_id,reference,store_id,line,account,amount');
    expect(lines.slice(1).every((l) => l.split(',')[6] === elsewhere)).toBe(true);
    // A balance-only payment posts one PAYMENT_CAPTURE journal (no PAYMENT_HOLD before it).
    expect(lines.slice(1).map((l) => l.split(',')[3])).toEqual(expect.arrayContaining(['PAYMENT_CAPTURE', 'PAYMENT_REFUND']));
    expect(lines.slice(1).map((l) => l.split(',')[3])).not.toContain('PAYMENT_HOLD');
    expect((await fetch(`${base}/reconciliation.csv?date=${date}`)).status).toBe(401);
    expect((await fetch(`${base}/reconciliation.csv?date=${date}`, { headers: { authorization: `Bearer ${await memberToken(memberId)}` } })).status).toBe(403);
    expect((await fetch(`${base}/reconciliation.csv?date=2024-02-30`, { headers: { authorization: `Bearer ${await financeToken()}` } })).status).toBe(400);
    const denied = await gqlAs(svc.url, RECON, { date }, memberToken(memberId));
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
