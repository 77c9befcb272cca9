import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, Role } from '@membergraph/platform';
import { createTestScope, eventually, gql, startApp, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { SagaStep, type SagaHooks } from '../src/services/checkout.service';
import { auditLedger } from '../src/services/ledger-audit.service';
import { TOP_UP, payClient, topUpInput } from './helpers';
import { fakeMarketing, fakePoints, type FakeMarketing, type FakePoints } from './checkout-doubles';

/**
 * Crash tests: the saga runs with a hook that throws right after a step committed (the process
 * "dies" there: nothing after it runs), the app is stopped and a new one started on the same
 * database; its recovery loop must end the payment all-captured or all-released.
 */
const scope = createTestScope();
// The first process never recovers anything itself; its lease runs out quickly so the second may take over.
const FIRST = { PAYMENT_LEASE_MS: '800', PAYMENT_RECOVERY_INTERVAL_MS: '0', RPC_TIMEOUT_MS: '500' };
const SECOND = { PAYMENT_LEASE_MS: '800', PAYMENT_RECOVERY_INTERVAL_MS: '150', RPC_TIMEOUT_MS: '500' };
const PAY = `mutation($input: PayInput!) { pay(input: $input) { id status } }`;
const token = () => tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'pos', scopes: ['wallet:pay'] });

let points: FakePoints;
let marketing: FakeMarketing;
beforeAll(async () => {
  points = await fakePoints(scope);
  marketing = await fakeMarketing(scope);
});
afterAll(async () => {
  await points?.close();
  await marketing?.close();
  await scope.cleanup();
});

class SimulatedCrash extends Error {}

async function run<T>(env: Record<string, string>, hooks: SagaHooks, body: (app: Awaited<ReturnType<typeof startApp<ReturnType<typeof createApp>>>>) => Promise<T>): Promise<T> {
  const app = await startApp(createApp(scope.env('wallet', env), { hooks }));
  try {
    return await body(app);
  } finally {
    await app.stop();
  }
}

const balanceOf = async (app: ReturnType<typeof createApp>, memberId: string) => {
  const [row] = await app.kit.ds.query('SELECT principal, bonus FROM wallet_account WHERE member_id = ?', [memberId]);
  return Number(row.principal) + Number(row.bonus);
};

/** Pays 100 yuan with 2,000 points, dying after `crashAfter`; returns the payment id and the member. */
async function payAndCrash(crashAfter: SagaStep, opts: { points?: number; pointsToUse?: number; coupon?: string } = {}) {
  let crashedAt: string | null = null;
  const hooks: SagaHooks = {
    afterStep: (step, paymentId) => {
      if (step === crashAfter) {
        crashedAt = paymentId;
        throw new SimulatedCrash(`crash after ${step}`);
      }
    },
  };
  return run(FIRST, hooks, async (app) => {
    const memberId = newId();
    const { openWallet } = await import('../src/services/wallet-account.service');
    await app.kit.uow((em) => openWallet(app.kit, em, memberId));
    const top = await gql(app.url, TOP_UP, { input: topUpInput(memberId, 50_000) }, await payClient()); // 500 + 60 bonus yuan
    expect(top.errors).toBeUndefined();
    points.balances.set(memberId, opts.points ?? 5_000);
    if (opts.coupon) marketing.coupons.set(opts.coupon, { memberId, discount: 1_000, status: 'ISSUED', paymentId: null });
    const res = await gql(app.url, PAY, { input: { memberId, orderRef: `o-${newId()}`, amount: 10_000, pointsToUse: opts.pointsToUse ?? 2_000, couponCode: opts.coupon, idempotencyKey: newId() } }, await token());
    expect(res.errors?.[0]?.extensions?.code, `the crash after ${crashAfter} surfaces as an internal error`).toBe('INTERNAL_SERVER_ERROR');
    expect(crashedAt).toBeTruthy();
    const [row] = await app.kit.ds.query('SELECT id FROM wallet_payment WHERE member_id = ?', [memberId]);
    return { paymentId: row.id as string, memberId };
  });
}

async function afterRestart(paymentId: string, memberId: string) {
  return run(SECOND, {}, async (app) => {
    const payment = await eventually(async () => {
      const [p] = await app.kit.ds.query('SELECT status, points_step, wallet_step, failure_reason FROM wallet_payment WHERE id = ?', [paymentId]);
      expect(['CAPTURED', 'FAILED']).toContain(p.status);
      return p;
    });
    const report = await auditLedger(app.kit.ds);
    expect(report.differences).toEqual([]);
    const [{ held }] = await app.kit.ds.query("SELECT COALESCE(SUM(balance), 0) AS held FROM wallet_system_account WHERE code = 'PAYMENT_HOLD'");
    expect(Number(held)).toBe(0);
    return { payment, balance: await balanceOf(app, memberId) };
  });
}

const START = 56_000;

describe('a crash between checkout steps', () => {
  for (const step of [SagaStep.PAYMENT_CREATED, SagaStep.POINTS_HELD, SagaStep.WALLET_HELD]) {
    it(`after ${step} ends all released after a restart`, async () => {
      const { paymentId, memberId } = await payAndCrash(step);
      const { payment, balance } = await afterRestart(paymentId, memberId);
      expect(payment).toMatchObject({ status: 'FAILED', failure_reason: 'INTERRUPTED' });
      expect(payment.wallet_step).not.toBe('HELD');
      expect(['RELEASED', 'NOT_HELD']).toContain(payment.points_step);
      expect(balance).toBe(START);
      expect(points.available(memberId)).toBe(5_000);
      expect(points.balances.get(memberId)).toBe(5_000);
    });
  }

  for (const step of [SagaStep.CAPTURE_STARTED, SagaStep.POINTS_CAPTURED]) {
    it(`after ${step} ends all captured after a restart`, async () => {
      const { paymentId, memberId } = await payAndCrash(step);
      const { payment, balance } = await afterRestart(paymentId, memberId);
      expect(payment).toMatchObject({ status: 'CAPTURED', points_step: 'CAPTURED', wallet_step: 'CAPTURED' });
      expect(balance).toBe(START - 8_000);
      expect(points.balances.get(memberId)).toBe(3_000);
      expect(points.available(memberId)).toBe(3_000);
    });
  }

  for (const step of [SagaStep.RELEASE_STARTED, SagaStep.WALLET_RELEASED]) {
    it(`while releasing (after ${step}) ends all released after a restart`, async () => {
      // The points capture is refused, so the saga turns back with points and balance held.
      points.behaviour.capture = 'refuse';
      let crashed;
      try {
        crashed = await payAndCrash(step);
      } finally {
        points.behaviour.capture = 'normal';
      }
      const { payment, balance } = await afterRestart(crashed.paymentId, crashed.memberId);
      expect(payment).toMatchObject({ status: 'FAILED', failure_reason: 'POINTS_CAPTURE_REFUSED', wallet_step: 'RELEASED', points_step: 'RELEASED' });
      expect(balance).toBe(START);
      expect(points.available(crashed.memberId)).toBe(5_000);
    });
  }
});

describe('a crash between checkout steps with a coupon', () => {
  for (const step of [SagaStep.PAYMENT_CREATED, SagaStep.COUPON_LOCKED, SagaStep.WALLET_HELD]) {
    it(`after ${step} ends all released, the coupon given back, after a restart`, async () => {
      const coupon = `K${newId().slice(-10)}`;
      const { paymentId, memberId } = await payAndCrash(step, { coupon });
      const { payment, balance } = await afterRestart(paymentId, memberId);
      expect(payment).toMatchObject({ status: 'FAILED', failure_reason: 'INTERRUPTED' });
      expect(balance).toBe(START);
      expect(points.available(memberId)).toBe(5_000);
      expect(marketing.coupons.get(coupon)).toMatchObject({ status: 'ISSUED', paymentId: null });
    });
  }

  for (const step of [SagaStep.CAPTURE_STARTED, SagaStep.COUPON_REDEEMED]) {
    it(`after ${step} ends all captured, the coupon redeemed, after a restart`, async () => {
      const coupon = `K${newId().slice(-10)}`;
      const { paymentId, memberId } = await payAndCrash(step, { coupon });
      const { payment, balance } = await afterRestart(paymentId, memberId);
      expect(payment).toMatchObject({ status: 'CAPTURED', points_step: 'CAPTURED', wallet_step: 'CAPTURED' });
      // 100 yuan - 10 coupon - 20 points = 70 from the balance.
      expect(balance).toBe(START - 7_000);
      expect(marketing.coupons.get(coupon)).toMatchObject({ status: 'REDEEMED' });
    });
  }
});

describe('hold time to live', () => {
  it('releases a checkout that outlives its holds instead of capturing it', async () => {
    const hooks: SagaHooks = {
      // The driver stalls after holding the balance until the holds have expired.
      afterStep: async (step) => {
        if (step === SagaStep.WALLET_HELD) await new Promise((r) => setTimeout(r, 1_300));
      },
    };
    // A lease longer than the stall: only the expiry decides.
    await run({ ...SECOND, PAYMENT_LEASE_MS: '10000', PAYMENT_HOLD_TTL_SECONDS: '1' }, hooks, async (app) => {
      const memberId = newId();
      const { openWallet } = await import('../src/services/wallet-account.service');
      await app.kit.uow((em) => openWallet(app.kit, em, memberId));
      await gql(app.url, TOP_UP, { input: topUpInput(memberId, 50_000) }, await payClient());
      points.balances.set(memberId, 5_000);
      const res = await gql(app.url, PAY, { input: { memberId, orderRef: 'o', amount: 10_000, pointsToUse: 2_000, idempotencyKey: newId() } }, await token());
      expect(res.data.pay.status).toBe('FAILED');
      const [p] = await app.kit.ds.query('SELECT failure_reason FROM wallet_payment WHERE id = ?', [res.data.pay.id]);
      expect(p.failure_reason).toBe('HOLD_EXPIRED');
      expect(await balanceOf(app, memberId)).toBe(START);
      expect(points.available(memberId)).toBe(5_000);
      expect((await auditLedger(app.kit.ds)).ok).toBe(true);
    });
  });
});
