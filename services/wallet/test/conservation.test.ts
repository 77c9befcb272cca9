/**
 * Bank-style conservation: 32 concurrent clients pay from and refund to 10 accounts for a few
 * seconds through the subgraph; money is neither created nor lost, nothing goes below zero, and the
 * journal audits clean.
 */
import { describe, expect, it } from 'vitest';
import { Role, newId } from '@membergraph/platform';
import { serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { sealJournals } from '../src/services/ledger-sealer.service';
import { AUDIT, TOP_UP, financeToken, gqlAs, openMember, payClient, topUpInput } from './helpers';

const svc = serviceUnderTest('wallet', createApp, { env: { RISK_VELOCITY_MAX_PAYMENTS: '0', RISK_DAILY_CAP: '1000000000', PAYMENT_OTP_THRESHOLD: '100000000' } });
const PAY = `mutation($input: PayInput!) { pay(input: $input) { id status walletAmount } }`;
const REFUND = `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { id amount } }`;
const ACCOUNTS = 10;
const CLIENTS = 32;
const RUN_MS = 3_000;

describe('conservation', () => {
  it('conserves the total under 32 concurrent clients paying and refunding among 10 accounts', async () => {
    const members: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const memberId = await openMember(svc.app);
      expect((await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, 20_000) }, payClient())).errors).toBeUndefined();
      members.push(memberId);
    }
    const [{ owed: initial }] = await svc.app.kit.ds.query('SELECT SUM(principal + bonus) AS owed FROM wallet_account WHERE member_id IN (?)', [members]);
    const token = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'bank', scopes: ['wallet:pay', 'wallet:refund'] });
    const captured: Array<{ id: string; left: number }> = [];
    const tally = { paid: 0, refunded: 0, refusals: 0 };
    const deadline = Date.now() + RUN_MS;
    // Deterministic per client, so a failure can be replayed.
    const client = async (n: number) => {
      let seed = n + 1;
      const rnd = (max: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed % max;
      };
      while (Date.now() < deadline) {
        if (captured.length && rnd(3) === 0) {
          const p = captured[rnd(captured.length)]!;
          const amount = 1 + rnd(Math.max(1, p.left));
          const res = await gqlAs(svc.url, REFUND, { input: { paymentId: p.id, amount, idempotencyKey: `r-${newId()}` } }, token);
          if (res.errors) tally.refusals++;
          else {
            p.left -= amount;
            tally.refunded += amount;
          }
        } else {
          const res = await gqlAs(svc.url, PAY, { input: { memberId: members[rnd(ACCOUNTS)], orderRef: `o-${newId()}`, amount: 1 + rnd(3_000), idempotencyKey: `p-${newId()}` } }, token);
          if (res.data?.pay?.status === 'CAPTURED') {
            captured.push({ id: res.data.pay.id, left: res.data.pay.walletAmount });
            tally.paid += res.data.pay.walletAmount;
          } else tally.refusals++;
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));

    const ds = svc.app.kit.ds;
    const [{ owed, negative }] = await ds.query(
      'SELECT SUM(principal + bonus) AS owed, SUM(principal < 0 OR bonus < 0) AS negative FROM wallet_account WHERE member_id IN (?)',
      [members],
    );
    expect(Number(negative)).toBe(0);
    // What the members hold plus what they spent net of refunds is what they were given.
    expect(Number(owed) + tally.paid - tally.refunded).toBe(Number(initial));
    const [{ spent }] = await ds.query("SELECT COALESCE(SUM(wallet_amount), 0) - COALESCE(SUM(refunded_principal + refunded_bonus), 0) AS spent FROM wallet_payment WHERE status = 'CAPTURED' AND member_id IN (?)", [members]);
    expect(Number(spent)).toBe(tally.paid - tally.refunded);
    await sealJournals(ds); // the cached system balances are the sealed journals'
    const [hold] = await ds.query("SELECT COALESCE(SUM(balance), 0) AS b FROM wallet_system_account WHERE code = 'PAYMENT_HOLD'");
    expect(Number(hold.b)).toBe(0);
    expect(tally.paid).toBeGreaterThan(0);
    expect(tally.refunded).toBeGreaterThan(0);
    const audit = await gqlAs(svc.url, AUDIT, {}, financeToken());
    expect(audit.data.walletAudit).toMatchObject({ ok: true, differences: [] });
  }, 60_000);
});
