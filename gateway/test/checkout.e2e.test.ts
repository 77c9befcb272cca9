/**
 * Checkout end to end through the gateway, with all five subgraphs in-process on real MySQL and
 * NATS: a member gets points, finance tops up 1,000 yuan (1,150 with the bonus), the member asks
 * for a PAYMENT code (read back as ADMIN from the local message provider), pays 600 yuan with
 * 5,000 points and the code (points held and captured by the points service, the code checked by
 * the member service over NATS), then half the balance part is refunded and the points come back
 * in proportion.
 */
import { describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { eventually, gql, tokenFor } from '@membergraph/testkit';
import { platformUnderTest } from './support/platform';

const PHONE = '+8613800000999';
const yuan = (y: number) => y * 100;

const platform = platformUnderTest();

const CARD = `query($id: ID!) {
  member(id: $id) {
    points { balance held available }
    wallet { balance principal bonus status history(first: 10) { edges { node { kind account amount reference } } } }
  }
}`;
const PAY = `mutation($input: PayInput!) {
  pay(input: $input) { id status amount walletAmount pointsUsed pointsValue fromPrincipal fromBonus failureReason }
}`;

async function card(id: string, token: string) {
  const res = await gql(platform.url, CARD, { id }, token);
  expect(res.errors).toBeUndefined();
  return res.data.member;
}

describe('a member paying an order with points, balance and an SMS code, then getting part of it back', () => {
  let id: string;
  let member: string;
  let finance: string;
  let paymentId: string;

  it('tops up 1,000 yuan into 1,150 (principal 1,000, bonus 150) once the member has 5,000 points', async () => {
    const reg = await gql(platform.url, `mutation($p: String!) { registerMember(input: {phone: $p, name: "Li Na", channel: STORE}) { id } }`, { p: PHONE }, platform.admin);
    expect(reg.errors).toBeUndefined();
    id = reg.data.registerMember.id;
    member = await tokenFor([Role.MEMBER], { kind: 'member', sub: id });
    finance = await tokenFor([Role.FINANCE], { sub: 'finance-e2e' });

    // Points and wallet open their accounts from member.registered.
    const welcome = await eventually(async () => {
      const res = await gql(platform.url, CARD, { id }, member);
      expect(res.errors).toBeUndefined();
      expect(res.data.member.points.balance).toBeGreaterThan(0);
      return res.data.member.points.balance as number;
    });
    const adjust = await gql(
      platform.url,
      `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { amount } }`,
      { input: { memberId: id, delta: 5_000, reason: 'e2e: points to pay with', idempotencyKey: `adj-${id}` } },
      platform.admin,
    );
    expect(adjust.errors).toBeUndefined();

    const topUp = await eventually(async () => {
      const res = await gql(
        platform.url,
        `mutation($input: TopUpInput!) { topUp(input: $input) { amount bonus status } }`,
        { input: { memberId: id, amount: yuan(1_000), paymentRef: `psp-${id}`, channel: 'STORE', storeId: 's1', idempotencyKey: `top-${id}` } },
        finance,
      );
      // NOT_FOUND until the wallet has consumed the registration.
      expect(res.errors).toBeUndefined();
      return res.data.topUp;
    });
    expect(topUp).toEqual({ amount: yuan(1_000), bonus: yuan(150), status: 'COMPLETED' });

    const c = await card(id, member);
    expect(c.points).toEqual({ balance: welcome + 5_000, held: 0, available: welcome + 5_000 });
    expect(c.wallet).toMatchObject({ balance: yuan(1_150), principal: yuan(1_000), bonus: yuan(150), status: 'ACTIVE' });
  });

  it('pays 600 yuan with 5,000 points and the PAYMENT code: captured, balance principal first, points spent, statement right', async () => {
    const before = await card(id, member);
    const input = { memberId: id, orderRef: 'POS-600', amount: yuan(600), pointsToUse: 5_000, storeId: 's1', idempotencyKey: `pay-${id}` };

    // 550 yuan of balance is above the 500-yuan step-up threshold.
    const without = await gql(platform.url, PAY, { input }, member);
    expect(without.errors?.[0]?.extensions).toMatchObject({ code: 'OTP_REQUIRED', reason: 'MISSING' });

    const req = await gql(platform.url, `mutation($p: String!) { requestOtp(input: {phone: $p, purpose: PAYMENT}) { expiresAt } }`, { p: PHONE }, member);
    expect(req.errors).toBeUndefined();
    const sent = await gql(platform.url, `query($to: String!) { sentMessages(to: $to) { channel body } }`, { to: PHONE }, platform.admin);
    expect(sent.errors).toBeUndefined();
    const newest = sent.data.sentMessages[0];
    expect(newest).toMatchObject({ channel: 'SMS', body: expect.stringContaining('payment') });
    const otp = /\b(\d{6})\b/.exec(newest.body)![1]!;

    const paid = await gql(platform.url, PAY, { input: { ...input, otp } }, member);
    expect(paid.errors).toBeUndefined();
    expect(paid.data.pay).toMatchObject({
      status: 'CAPTURED',
      amount: yuan(600),
      pointsUsed: 5_000,
      pointsValue: yuan(50),
      walletAmount: yuan(550),
      fromPrincipal: yuan(550),
      fromBonus: 0,
      failureReason: null,
    });
    paymentId = paid.data.pay.id;

    // A retry with the same key replays the payment; the code is single use and not needed again.
    const retry = await gql(platform.url, PAY, { input }, member);
    expect(retry.data.pay).toMatchObject({ id: paymentId, status: 'CAPTURED' });

    const after = await card(id, member);
    expect(after.points).toEqual({ balance: before.points.balance - 5_000, held: 0, available: before.points.balance - 5_000 });
    expect(after.wallet).toMatchObject({ balance: yuan(600), principal: yuan(450), bonus: yuan(150) });
    expect(after.wallet.history.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { kind: 'PAYMENT_HOLD', account: 'PRINCIPAL', amount: -yuan(550), reference: paymentId },
      { kind: 'TOP_UP', account: 'BONUS', amount: yuan(150), reference: expect.any(String) },
      { kind: 'TOP_UP', account: 'PRINCIPAL', amount: yuan(1_000), reference: expect.any(String) },
    ]);
  });

  it('refunds half the balance part to the principal and gives back half the points', async () => {
    const before = await card(id, member);
    const refund = await gql(
      platform.url,
      `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { amount toPrincipal toBonus points payment { status refundedAmount } } }`,
      { input: { paymentId, amount: yuan(275), idempotencyKey: `refund-${paymentId}` } },
      finance,
    );
    expect(refund.errors).toBeUndefined();
    expect(refund.data.refundPayment).toEqual({ amount: yuan(275), toPrincipal: yuan(275), toBonus: 0, points: 2_500, payment: { status: 'CAPTURED', refundedAmount: yuan(275) } });

    const c = await card(id, member);
    expect(c.wallet).toMatchObject({ balance: yuan(875), principal: yuan(725), bonus: yuan(150) });
    expect(c.wallet.history.edges[0].node).toEqual({ kind: 'PAYMENT_REFUND', account: 'PRINCIPAL', amount: yuan(275), reference: expect.any(String) });
    // The give-back goes to the points service over NATS after the refund commits.
    await eventually(async () => {
      expect((await card(id, member)).points.balance).toBe(before.points.balance + 2_500);
    });

    const audit = await gql(platform.url, `{ walletAudit { ok differences { kind detail } } }`, undefined, finance);
    expect(audit.data.walletAudit).toEqual({ ok: true, differences: [] });
  });
});
