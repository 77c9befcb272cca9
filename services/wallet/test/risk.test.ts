/**
 * Risk rules beyond the caps: velocity (more than N balance payments in M minutes) and the
 * automatic freeze after K risk hits within a window, audited as `system:risk`; through the
 * subgraph on real MySQL and NATS. Balance-only payments below the OTP threshold: no doubles needed.
 */
import { describe, expect, it } from 'vitest';
import { Role, newId } from '@membergraph/platform';
import { serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { AUDIT, TOP_UP, count, financeToken, gqlAs, openMember, payClient, topUpInput, walletOf } from './helpers';

const ENV = {
  RISK_VELOCITY_MAX_PAYMENTS: '3',
  RISK_VELOCITY_WINDOW_MINUTES: '10',
  RISK_FREEZE_AFTER_HITS: '3',
  RISK_FREEZE_WINDOW_MINUTES: '60',
  RISK_SINGLE_PAYMENT_CAP: '100000',
  PAYMENT_OTP_THRESHOLD: '100000000',
};
const svc = serviceUnderTest('wallet', createApp, { env: ENV });
const ds = () => svc.app.kit.ds;
const yuan = (y: number) => y * 100;

const PAY = `mutation($input: PayInput!) { pay(input: $input) { id status failureReason } }`;
const UNFREEZE = `mutation($input: WalletStatusInput!) { unfreezeWallet(input: $input) { status } }`;
const payer = () => tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'pos', scopes: ['wallet:pay'] });
const payInput = (memberId: string, amount: number) => ({ memberId, orderRef: `order-${newId()}`, amount, idempotencyKey: `p-${newId()}` });

async function funded(amount = yuan(5_000)): Promise<string> {
  const memberId = await openMember(svc.app);
  expect((await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, amount) }, payClient())).errors).toBeUndefined();
  return memberId;
}

const flags = async (memberId: string) =>
  ((await ds().query("SELECT payload FROM outbox WHERE type = 'wallet.risk_flagged' AND subject = ? ORDER BY id", [memberId])) as Array<{ payload: string }>).map(
    (r) => JSON.parse(r.payload).data,
  );
const freezes = (memberId: string) => ds().query("SELECT actor, action, detail FROM audit_log WHERE target = ? AND action = 'WALLET_FROZEN'", [memberId]);

describe('velocity', () => {
  it('refuses the payment after N in the window with RISK_REJECTED (VELOCITY) and flags it, without freezing on one hit', async () => {
    const memberId = await funded();
    for (let i = 0; i < 3; i++) expect((await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10)) }, payer())).data.pay.status).toBe('CAPTURED');
    const fourth = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10)) }, payer());
    expect(fourth.errors?.[0]?.extensions).toMatchObject({ code: 'RISK_REJECTED', rule: 'VELOCITY', limit: 3, attempted: 4 });
    expect(await flags(memberId)).toEqual([expect.objectContaining({ memberId, rule: 'VELOCITY', limit: 3, attempted: 4, paymentId: null })]);
    expect(await walletOf(svc.url, memberId)).toMatchObject({ balance: yuan(5_150 - 30), status: 'ACTIVE' });
    expect(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_payment WHERE member_id = ?', [memberId])).toBe(3);
  });

  it('is exact under concurrency: of 8 concurrent payments exactly 3 go through', async () => {
    const memberId = await funded();
    const token = await payer();
    const results = await Promise.all(Array.from({ length: 8 }, () => gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10)) }, token)));
    const captured = results.filter((r) => r.data?.pay?.status === 'CAPTURED').length;
    expect(captured).toBe(3);
    // The rest are refused before anything is held (RISK_REJECTED, or WALLET_FROZEN once the hits froze
    // the wallet), or at the hold under the member's lock (a FAILED payment).
    for (const r of results.filter((x) => x.data?.pay?.status !== 'CAPTURED')) {
      if (r.errors) expect(['RISK_REJECTED', 'CONFLICT']).toContain(r.errors[0]!.extensions?.code);
      else expect(r.data.pay).toMatchObject({ status: 'FAILED', failureReason: expect.stringMatching(/^(RISK_REJECTED|WALLET_FROZEN)$/) });
    }
    expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(5_150 - 30));
    expect((await gqlAs(svc.url, AUDIT, {}, financeToken())).data.walletAudit.ok).toBe(true);
  });
});

describe('automatic freeze', () => {
  it('freezes the wallet on the 3rd risk hit within the window, audited as system:risk; staff unfreeze starts the count again', async () => {
    const memberId = await funded();
    for (let i = 0; i < 2; i++) {
      const r = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(1_001)) }, payer());
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'RISK_REJECTED', rule: 'SINGLE_PAYMENT_CAP' });
    }
    expect((await walletOf(svc.url, memberId)).status).toBe('ACTIVE');
    const third = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(1_001)) }, payer());
    expect(third.errors?.[0]?.extensions).toMatchObject({ code: 'RISK_REJECTED', rule: 'SINGLE_PAYMENT_CAP' });
    expect((await walletOf(svc.url, memberId)).status).toBe('FROZEN');
    const [frozen] = await freezes(memberId);
    expect(frozen).toMatchObject({ actor: 'system:risk', action: 'WALLET_FROZEN' });
    expect(JSON.parse(frozen.detail)).toEqual({ reason: '3 risk hits within 60 minutes (last: SINGLE_PAYMENT_CAP)', from: 'ACTIVE' });
    expect((await flags(memberId)).map((f) => f.rule)).toEqual(['SINGLE_PAYMENT_CAP', 'SINGLE_PAYMENT_CAP', 'SINGLE_PAYMENT_CAP']);

    // Frozen: even a harmless payment is refused, and is no further risk hit.
    const small = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(1)) }, payer());
    expect(small.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'WALLET_FROZEN' });
    expect(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_risk_hit WHERE member_id = ?', [memberId])).toBe(3);

    // Staff looked at it: the earlier hits do not freeze it again.
    expect((await gqlAs(svc.url, UNFREEZE, { input: { memberId, reason: 'customer called, legitimate', idempotencyKey: newId() } }, financeToken())).data.unfreezeWallet.status).toBe('ACTIVE');
    const after = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(1_001)) }, payer());
    expect(after.errors?.[0]?.extensions?.code).toBe('RISK_REJECTED');
    expect((await walletOf(svc.url, memberId)).status).toBe('ACTIVE');
    expect((await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(1)) }, payer())).data.pay.status).toBe('CAPTURED');
  });

  it('freezes exactly once when many hits race', async () => {
    const memberId = await funded();
    const token = await payer();
    const results = await Promise.all(Array.from({ length: 10 }, () => gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(1_001)) }, token)));
    for (const r of results) expect(['RISK_REJECTED', 'CONFLICT']).toContain(r.errors?.[0]?.extensions?.code);
    expect((await walletOf(svc.url, memberId)).status).toBe('FROZEN');
    expect(await freezes(memberId)).toHaveLength(1);
    expect(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_risk_hit WHERE member_id = ?', [memberId])).toBeGreaterThanOrEqual(3);
  });
});
