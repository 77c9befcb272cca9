import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, Role } from '@membergraph/platform';
import { eventually, serviceUnderTest, startApp, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { AUDIT, TOP_UP, count, financeToken, gqlAs, ledgerFootprint, memberToken, openMember, payClient, topUpInput, walletOf } from './helpers';
import { fakeMember, fakePoints, type FakeMember, type FakePoints } from './checkout-doubles';

// Velocity and auto-freeze are off here (64 payments on one account); test/risk.test.ts covers them.
const ENV = { RISK_VELOCITY_MAX_PAYMENTS: '0', PAYMENT_LEASE_MS: '1000', PAYMENT_RECOVERY_INTERVAL_MS: '200', RPC_TIMEOUT_MS: '500', RISK_SINGLE_PAYMENT_CAP: '200000', RISK_DAILY_CAP: '300000' };
const svc = serviceUnderTest('wallet', createApp, { env: ENV });
const ds = () => svc.app.kit.ds;
const yuan = (y: number) => y * 100;

export const PAY = `mutation($input: PayInput!) { pay(input: $input) { id memberId orderRef status amount walletAmount pointsUsed pointsValue couponDiscount fromPrincipal fromBonus refundedAmount failureReason } }`;
const REFUND_PAYMENT = `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { id paymentId amount toPrincipal toBonus payment { status refundedAmount } } }`;
const PAYMENT = `query($id: ID!) { payment(id: $id) { id status failureReason } }`;

let points: FakePoints;
let member: FakeMember;
beforeAll(async () => {
  points = await fakePoints(svc.scope);
  member = await fakeMember(svc.scope);
});
afterAll(async () => {
  await points?.close();
  await member?.close();
});

const payClientToken = () => tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'pos', scopes: ['wallet:pay', 'wallet:refund'] });
const payInput = (memberId: string, amount: number, extra: Record<string, unknown> = {}) => ({ memberId, orderRef: `order-${newId()}`, amount, idempotencyKey: `p-${newId()}`, ...extra });

/** A member with 1,000 yuan topped up (1,150 with bonus) and `pts` points. */
async function richMember(pts = 0): Promise<string> {
  const memberId = await openMember(svc.app);
  const res = await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(1_000)) }, payClient());
  expect(res.errors).toBeUndefined();
  points.balances.set(memberId, pts);
  return memberId;
}

async function auditOk() {
  const audit = await gqlAs(svc.url, AUDIT, {}, financeToken());
  expect(audit.data.walletAudit).toMatchObject({ ok: true, differences: [] });
}

const heldPoints = (memberId: string) => [...points.holds.values()].filter((h) => h.memberId === memberId && h.status === 'HELD').length;

describe('pay', () => {
  it('pays 600 yuan with 5,000 points and the OTP: points captured, balance taken principal first, statement and audit right', async () => {
    const memberId = await richMember(8_000);
    member.codes.set(memberId, '123456');
    const res = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(600), { pointsToUse: 5_000, otp: '123456' }) }, memberToken(memberId));
    expect(res.errors).toBeUndefined();
    expect(res.data.pay).toMatchObject({ status: 'CAPTURED', amount: yuan(600), pointsUsed: 5_000, pointsValue: yuan(50), walletAmount: yuan(550), couponDiscount: 0, fromPrincipal: yuan(550), fromBonus: 0, failureReason: null });
    expect(points.balances.get(memberId)).toBe(3_000);
    expect(heldPoints(memberId)).toBe(0);
    const wallet = await walletOf(svc.url, memberId, await memberToken(memberId));
    expect(wallet).toMatchObject({ balance: yuan(600), principal: yuan(450), bonus: yuan(150) });
    expect(wallet.history.edges[0].node).toMatchObject({ kind: 'PAYMENT_HOLD', account: 'PRINCIPAL', amount: -yuan(550), reference: res.data.pay.id });
    expect(member.requests.at(-1)).toEqual({ memberId, purpose: 'PAYMENT', code: '123456' });
    // The capture journal moves only system accounts: no wallet.changed for it.
    expect(await count(ds(), "SELECT COUNT(*) AS n FROM outbox WHERE type = 'wallet.changed' AND subject = ?", [memberId])).toBe(2);
    await auditOk();
  });

  it('spends bonus once the principal is gone, and needs no OTP at or under the threshold', async () => {
    const memberId = await richMember();
    const first = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(500)) }, payClientToken());
    const second = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(500)) }, payClientToken());
    const third = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(100)) }, payClientToken());
    expect([first, second, third].map((r) => r.data.pay.status)).toEqual(['CAPTURED', 'CAPTURED', 'CAPTURED']);
    expect(third.data.pay).toMatchObject({ fromPrincipal: 0, fromBonus: yuan(100) });
    expect(await walletOf(svc.url, memberId)).toMatchObject({ balance: yuan(50), principal: 0, bonus: yuan(50) });
    await auditOk();
  });

  it('asks for the OTP above the threshold: OTP_REQUIRED when missing or refused, and nothing is written', async () => {
    const memberId = await richMember(10_000);
    const before = await ledgerFootprint(ds());
    const payments = await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_payment');
    const missing = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(501)) }, memberToken(memberId));
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'OTP_REQUIRED', reason: 'MISSING', field: 'otp' });
    member.codes.set(memberId, '111111');
    const wrong = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(501), { otp: '222222' }) }, memberToken(memberId));
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: 'OTP_REQUIRED', reason: 'MISMATCH' });
    expect(await ledgerFootprint(ds())).toEqual(before);
    expect(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_payment')).toBe(payments);
    expect(points.holds.size === 0 || heldPoints(memberId) === 0).toBe(true);
    const ok = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(501), { otp: '111111' }) }, memberToken(memberId));
    expect(ok.data.pay.status).toBe('CAPTURED');
  });

  it('refuses bad input naming the field, writing nothing', async () => {
    const memberId = await richMember(10_000);
    const before = await ledgerFootprint(ds());
    const payments = await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_payment');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ couponCode: 'C'.repeat(65) }, 'couponCode'],
      [{ storeId: 's'.repeat(65) }, 'storeId'],
      [{ amount: 0 }, 'amount'],
      [{ amount: -5 }, 'amount'],
      [{ pointsToUse: -1 }, 'pointsToUse'],
      [{ pointsToUse: 6_000 }, 'pointsToUse'], // more than 50% of 100 yuan
      [{ orderRef: '' }, 'orderRef'],
      [{ orderRef: 'x'.repeat(101) }, 'orderRef'],
      [{ idempotencyKey: '' }, 'idempotencyKey'],
      [{ otp: 'x'.repeat(17) }, 'otp'],
    ];
    for (const [patch, field] of cases) {
      const res = await gqlAs(svc.url, PAY, { input: { ...payInput(memberId, yuan(100)), ...patch } }, payClientToken());
      expect(res.errors?.[0]?.extensions, JSON.stringify(patch)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(await ledgerFootprint(ds())).toEqual(before);
    expect(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_payment')).toBe(payments);
  });

  it('lets only the member themself, a client with wallet:pay or ADMIN pay', async () => {
    const memberId = await richMember();
    const input = () => ({ input: payInput(memberId, yuan(1)) });
    expect((await gqlAs(svc.url, PAY, input(), memberToken(newId()))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gqlAs(svc.url, PAY, input(), financeToken())).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gqlAs(svc.url, PAY, input(), tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'erp', scopes: ['wallet:read'] }))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gqlAs(svc.url, PAY, input(), '')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await gqlAs(svc.url, PAY, input(), tokenFor([Role.ADMIN]))).data.pay.status).toBe('CAPTURED');
    expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(1_150) - yuan(1));
  });

  it('refuses what the wallet cannot do before holding anything: no wallet, frozen, not enough balance', async () => {
    expect((await gqlAs(svc.url, PAY, { input: payInput(newId(), 100) }, payClientToken())).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const memberId = await richMember();
    const poor = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(1_151)) }, payClientToken());
    expect(poor.errors?.[0]?.extensions).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    await gqlAs(svc.url, `mutation($input: WalletStatusInput!) { freezeWallet(input: $input) { status } }`, { input: { memberId, reason: 'test', idempotencyKey: newId() } }, financeToken());
    const frozen = await gqlAs(svc.url, PAY, { input: payInput(memberId, 100) }, payClientToken());
    expect(frozen.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'WALLET_FROZEN' });
  });

  it('fails with INSUFFICIENT_POINTS, holding nothing, when the points service refuses the hold', async () => {
    const memberId = await richMember(100);
    const res = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10), { pointsToUse: 200 }) }, payClientToken());
    expect(res.data.pay).toMatchObject({ status: 'FAILED', failureReason: 'INSUFFICIENT_POINTS' });
    expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(1_150));
    await auditOk();
  });

  it('releases the balance and the points when the points capture is refused', async () => {
    const memberId = await richMember(1_000);
    points.behaviour.capture = 'refuse';
    try {
      const res = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10), { pointsToUse: 500 }) }, payClientToken());
      expect(res.data.pay).toMatchObject({ status: 'FAILED', failureReason: 'POINTS_CAPTURE_REFUSED' });
    } finally {
      points.behaviour.capture = 'normal';
    }
    expect(await walletOf(svc.url, memberId)).toMatchObject({ balance: yuan(1_150), principal: yuan(1_000), bonus: yuan(150) });
    expect(points.available(memberId)).toBe(1_000);
    const kinds = (await walletOf(svc.url, memberId)).history.edges.map((e: { node: { kind: string } }) => e.node.kind);
    expect(kinds.slice(0, 2)).toEqual(['PAYMENT_RELEASE', 'PAYMENT_HOLD']);
    await auditOk();
  });

  it('keeps a payment whose points capture got no answer CAPTURING, and the recovery loop captures it once points answer', async () => {
    const memberId = await richMember(1_000);
    points.behaviour.capture = 'silent';
    let res;
    try {
      res = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10), { pointsToUse: 500 }) }, payClientToken());
      expect(res.data.pay.status).toBe('CAPTURING');
    } finally {
      points.behaviour.capture = 'normal';
    }
    await eventually(async () => {
      const p = await gqlAs(svc.url, PAYMENT, { id: res.data.pay.id }, payClientToken());
      expect(p.data.payment.status).toBe('CAPTURED');
    });
    expect(points.balances.get(memberId)).toBe(500);
    expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(1_145));
    await auditOk();
  });

  it('fails with POINTS_UNAVAILABLE when the points hold gets no answer, and releases the hold it may have made', async () => {
    const memberId = await richMember(1_000);
    points.behaviour.hold = 'silent';
    let res;
    try {
      res = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10), { pointsToUse: 500 }) }, payClientToken());
    } finally {
      points.behaviour.hold = 'normal';
    }
    // Releasing repeats the hold call to learn the hold: either now or from the recovery loop.
    await eventually(async () => {
      const p = await gqlAs(svc.url, PAYMENT, { id: res.data.pay.id }, payClientToken());
      expect(p.data.payment).toMatchObject({ status: 'FAILED', failureReason: 'POINTS_UNAVAILABLE' });
    });
    expect(heldPoints(memberId)).toBe(0);
    expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(1_150));
  });

  it('returns the first result for the same key (also from another process), CONFLICT for another input, one payment for concurrent retries', async () => {
    const memberId = await richMember(1_000);
    const input = payInput(memberId, yuan(20), { pointsToUse: 100 });
    const results = await Promise.all(Array.from({ length: 6 }, async () => gqlAs(svc.url, PAY, { input }, payClientToken())));
    expect(results.every((r) => !r.errors)).toBe(true);
    expect(new Set(results.map((r) => r.data.pay.id)).size).toBe(1);
    expect(results.every((r) => r.data.pay.status === 'CAPTURED')).toBe(true);
    const other = await startApp(createApp(svc.scope.env('wallet', ENV)));
    try {
      expect((await gqlAs(other.url, PAY, { input }, payClientToken())).data.pay).toEqual(results[0]!.data.pay);
      const changed = await gqlAs(other.url, PAY, { input: { ...input, amount: yuan(21) } }, payClientToken());
      expect(changed.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    } finally {
      await other.stop();
    }
    expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(1_150) - yuan(19));
    expect(points.balances.get(memberId)).toBe(900);
  });

  it('shows a payment to its member and to payers, not to other members', async () => {
    const memberId = await richMember();
    const { data } = await gqlAs(svc.url, PAY, { input: payInput(memberId, 100) }, payClientToken());
    expect((await gqlAs(svc.url, PAYMENT, { id: data.pay.id }, memberToken(memberId))).data.payment.status).toBe('CAPTURED');
    expect((await gqlAs(svc.url, PAYMENT, { id: data.pay.id }, memberToken(newId()))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gqlAs(svc.url, PAYMENT, { id: newId() }, payClientToken())).data.payment).toBeNull();
  });
});

describe('risk', () => {
  it('refuses a payment over the single-payment cap with RISK_REJECTED and flags it', async () => {
    const memberId = await openMember(svc.app);
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(5_000)) }, payClient());
    const res = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(2_001)) }, payClientToken());
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'RISK_REJECTED', rule: 'SINGLE_PAYMENT_CAP', limit: yuan(2_000) });
    const [row] = await ds().query("SELECT payload FROM outbox WHERE type = 'wallet.risk_flagged' AND subject = ?", [memberId]);
    expect(JSON.parse(row.payload).data).toMatchObject({ memberId, rule: 'SINGLE_PAYMENT_CAP', limit: yuan(2_000), attempted: yuan(2_001), paymentId: null });
  });

  it('refuses what would take the day over the daily cap', async () => {
    const memberId = await openMember(svc.app);
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(5_000)) }, payClient());
    // Six payments of 500 yuan (no OTP needed) reach the 3,000 yuan cap exactly.
    for (let i = 0; i < 6; i++) expect((await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(500)) }, payClientToken())).data.pay.status).toBe('CAPTURED');
    const over = await gqlAs(svc.url, PAY, { input: payInput(memberId, 1) }, payClientToken());
    expect(over.errors?.[0]?.extensions).toMatchObject({ code: 'RISK_REJECTED', rule: 'DAILY_CAP' });
  });
});

describe('refundPayment', () => {
  it('gives back partial and full refunds in the proportion taken, never more than is left, idempotently', async () => {
    const memberId = await richMember();
    // 1,100 yuan: 1,000 principal + 100 bonus.
    member.codes.set(memberId, '999999');
    const { data } = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(1_100), { otp: '999999' }) }, payClientToken());
    expect(data.pay).toMatchObject({ status: 'CAPTURED', fromPrincipal: yuan(1_000), fromBonus: yuan(100) });
    const paymentId = data.pay.id;
    const partial = { paymentId, amount: yuan(110), idempotencyKey: `r-${newId()}` };
    const first = await gqlAs(svc.url, REFUND_PAYMENT, { input: partial }, payClientToken());
    expect(first.data.refundPayment).toMatchObject({ amount: yuan(110), toPrincipal: yuan(100), toBonus: yuan(10), payment: { refundedAmount: yuan(110) } });
    expect((await gqlAs(svc.url, REFUND_PAYMENT, { input: partial }, financeToken())).data.refundPayment.id).toBe(first.data.refundPayment.id);
    const conflict = await gqlAs(svc.url, REFUND_PAYMENT, { input: { ...partial, amount: 1 } }, payClientToken());
    expect(conflict.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    const before = await ledgerFootprint(ds());
    const tooMuch = await gqlAs(svc.url, REFUND_PAYMENT, { input: { paymentId, amount: yuan(990) + 1, idempotencyKey: `r-${newId()}` } }, payClientToken());
    expect(tooMuch.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount', left: yuan(990) });
    expect(await ledgerFootprint(ds())).toEqual(before);
    const rest = await gqlAs(svc.url, REFUND_PAYMENT, { input: { paymentId, amount: yuan(990), idempotencyKey: `r-${newId()}` } }, payClientToken());
    expect(rest.data.refundPayment).toMatchObject({ toPrincipal: yuan(900), toBonus: yuan(90), payment: { refundedAmount: yuan(1_100) } });
    expect(await walletOf(svc.url, memberId)).toMatchObject({ balance: yuan(1_150), principal: yuan(1_000), bonus: yuan(150) });
    const none = await gqlAs(svc.url, REFUND_PAYMENT, { input: { paymentId, amount: 1, idempotencyKey: `r-${newId()}` } }, payClientToken());
    expect(none.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount', left: 0 });
    await auditOk();
  });

  it('refuses refunds of payments that did not capture, and callers without the right', async () => {
    const memberId = await richMember(0);
    const failed = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10), { pointsToUse: 100 }) }, payClientToken());
    expect(failed.data.pay.status).toBe('FAILED');
    const res = await gqlAs(svc.url, REFUND_PAYMENT, { input: { paymentId: failed.data.pay.id, amount: 1, idempotencyKey: `r-${newId()}` } }, payClientToken());
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'paymentId' });
    expect((await gqlAs(svc.url, REFUND_PAYMENT, { input: { paymentId: newId(), amount: 1, idempotencyKey: `r-${newId()}` } }, payClientToken())).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gqlAs(svc.url, REFUND_PAYMENT, { input: { paymentId: failed.data.pay.id, amount: 1, idempotencyKey: 'x' } }, memberToken(memberId))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('concurrency', () => {
  it('ends 64 concurrent payments on one account with the exact balance, never below zero', async () => {
    const memberId = await richMember(); // 115,000 fen
    const token = await payClientToken();
    // 64 payments of 2,000 fen ask for 128,000: exactly 57 fit (114,000).
    const results = await Promise.all(Array.from({ length: 64 }, () => gqlAs(svc.url, PAY, { input: payInput(memberId, 2_000) }, token)));
    const captured = results.filter((r) => r.data?.pay?.status === 'CAPTURED');
    const refused = results.filter((r) => r.data?.pay?.status !== 'CAPTURED');
    expect(captured.length).toBe(57);
    // Refused either before holding (INSUFFICIENT_FUNDS error) or at the hold under the lock (FAILED payment).
    for (const r of refused) expect(r.errors?.[0]?.extensions?.code ?? r.data.pay.failureReason).toBe('INSUFFICIENT_FUNDS');
    expect(await walletOf(svc.url, memberId)).toMatchObject({ balance: 1_000, principal: 0, bonus: 1_000 });
    const [{ low }] = await ds().query("SELECT MIN(principal + bonus) AS low FROM wallet_account WHERE member_id = ?", [memberId]);
    expect(Number(low)).toBeGreaterThanOrEqual(0);
    await auditOk();
  });
});
