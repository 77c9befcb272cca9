import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, Role } from '@membergraph/platform';
import { createTestScope, eventually, startApp, tokenFor, type Env } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { SagaStep } from '../src/services/checkout.service';
import { auditLedger } from '../src/services/ledger-audit.service';
import { openWallet } from '../src/services/wallet-account.service';
import { topUp } from '../src/services/top-up.service';
import { fakeMarketing, fakePoints, type FakeMarketing, type FakePoints } from './checkout-doubles';

/**
 * Crash tests with a real process death: the wallet runs as a child process (test/support/crash-child.ts)
 * that SIGKILLs itself right after a saga step has committed; then the wallet is started again (in
 * this process) on the same database, and its recovery must end the payment all-captured or
 * all-released with the audit clean. (test/checkout-crash.test.ts does the same in-process with a
 * throwing hook.)
 */
const scope = createTestScope();
const CHILD = fileURLToPath(new URL('./support/crash-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// The killed process's lease runs out quickly so the restarted one may take its payment over.
const FIRST = { PAYMENT_LEASE_MS: '800', PAYMENT_RECOVERY_INTERVAL_MS: '0', RPC_TIMEOUT_MS: '1000' };
const SECOND = { PAYMENT_LEASE_MS: '800', PAYMENT_RECOVERY_INTERVAL_MS: '150', RPC_TIMEOUT_MS: '1000' };
const PAY = `mutation($input: PayInput!) { pay(input: $input) { id status } }`;

// 500 yuan topped up (+60 bonus); the order is 100 yuan = 20 yuan of points + a 10 yuan coupon + 70 yuan of balance.
const START = 56_000;
const WALLET_PART = 7_000;
const POINTS = 5_000;
const POINTS_USED = 2_000;

let points: FakePoints;
let marketing: FakeMarketing;
const members: string[] = [];
const children = new Set<ChildProcess>();

beforeAll(async () => {
  points = await fakePoints(scope);
  marketing = await fakeMarketing(scope);
  // Migrate once and fund a member per case, so each child only starts.
  const app = await startApp(createApp(scope.env('wallet')));
  try {
    for (let i = 0; i < 16; i++) {
      const memberId = newId();
      await app.kit.uow((em) => openWallet(app.kit, em, memberId));
      await app.kit.uow((em) => topUp(app.kit, em, { memberId, amount: 50_000, paymentRef: `seed-${memberId}`, channel: 'APP', idempotencyKey: `seed-${memberId}` }));
      members.push(memberId);
    }
  } finally {
    await app.stop();
  }
});
afterAll(async () => {
  // Only a child whose crash point was never reached is still alive.
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await points?.close();
  await marketing?.close();
  await scope.cleanup();
});

/** Starts the wallet as a child process that dies right after `crashAfter`; resolves with its URL once it listens. */
async function spawnWallet(crashAfter: SagaStep) {
  const env: Env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(process.env.JWT_SECRET ? { JWT_SECRET: process.env.JWT_SECRET } : {}),
    ...scope.env('wallet', FIRST),
    WALLET_CRASH_AFTER: crashAfter,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) resolve(line.slice('READY '.length).trim());
    });
    void exited.then(({ code, signal }) => reject(new Error(`the wallet child exited before it was ready (${code ?? signal}): ${stderr}`)));
  });
  return { url, exited };
}

/** Pays the member's order through the child, which dies after `step`; returns the payment's id. */
async function payAndKill(step: SagaStep, memberId: string, opts: { refuseCapture?: boolean } = {}): Promise<string> {
  const coupon = `K${newId().slice(-10)}`;
  points.balances.set(memberId, POINTS);
  marketing.coupons.set(coupon, { memberId, discount: 1_000, status: 'ISSUED', paymentId: null });
  const wallet = await spawnWallet(step);
  if (opts.refuseCapture) points.behaviour.capture = 'refuse';
  try {
    const token = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'pos', scopes: ['wallet:pay'] });
    const input = { memberId, orderRef: `o-${newId()}`, amount: 10_000, pointsToUse: POINTS_USED, couponCode: coupon, idempotencyKey: newId() };
    const res = fetch(wallet.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: PAY, variables: { input } }) });
    // The process dies inside the request: no answer ever comes.
    await expect(res).rejects.toThrow();
    expect(await wallet.exited).toEqual({ code: null, signal: 'SIGKILL' });
  } finally {
    points.behaviour.capture = 'normal';
  }
  return coupon;
}

/** Starts the wallet again and waits for recovery to finish the member's payment; the audit must be clean and nothing left on hold. */
async function afterRestart(memberId: string) {
  const app = await startApp(createApp(scope.env('wallet', SECOND)));
  try {
    const payment = await eventually(async () => {
      const [p] = await app.kit.ds.query('SELECT status, coupon_step, points_step, wallet_step, failure_reason FROM wallet_payment WHERE member_id = ?', [memberId]);
      expect(['CAPTURED', 'FAILED']).toContain(p?.status);
      return p;
    });
    expect((await auditLedger(app.kit.ds)).differences).toEqual([]);
    const [{ held }] = await app.kit.ds.query("SELECT COALESCE(SUM(balance), 0) AS held FROM wallet_system_account WHERE code = 'PAYMENT_HOLD'");
    expect(Number(held)).toBe(0);
    const [row] = await app.kit.ds.query('SELECT principal + bonus AS balance FROM wallet_account WHERE member_id = ?', [memberId]);
    return { payment, balance: Number(row.balance) };
  } finally {
    await app.stop();
  }
}

let next = 0;
const member = () => members[next++]!;

describe('a checkout whose process is killed (SIGKILL) after a step', () => {
  for (const step of [SagaStep.PAYMENT_CREATED, SagaStep.COUPON_LOCKED, SagaStep.POINTS_HELD, SagaStep.WALLET_HELD]) {
    it(`after ${step}: all released once the wallet is started again`, async () => {
      const memberId = member();
      const coupon = await payAndKill(step, memberId);
      const { payment, balance } = await afterRestart(memberId);
      expect(payment).toMatchObject({ status: 'FAILED', failure_reason: 'INTERRUPTED' });
      expect(payment.wallet_step).not.toBe('HELD');
      expect(balance).toBe(START);
      expect(points.balances.get(memberId)).toBe(POINTS);
      expect(points.available(memberId)).toBe(POINTS);
      expect(marketing.coupons.get(coupon)).toMatchObject({ status: 'ISSUED', paymentId: null });
    });
  }

  for (const step of [SagaStep.CAPTURE_STARTED, SagaStep.COUPON_REDEEMED, SagaStep.POINTS_CAPTURED, SagaStep.CAPTURED]) {
    it(`after ${step}: all captured once the wallet is started again`, async () => {
      const memberId = member();
      const coupon = await payAndKill(step, memberId);
      const { payment, balance } = await afterRestart(memberId);
      expect(payment).toMatchObject({ status: 'CAPTURED', coupon_step: 'REDEEMED', points_step: 'CAPTURED', wallet_step: 'CAPTURED' });
      expect(balance).toBe(START - WALLET_PART);
      expect(points.balances.get(memberId)).toBe(POINTS - POINTS_USED);
      expect(points.available(memberId)).toBe(POINTS - POINTS_USED);
      expect(marketing.coupons.get(coupon)).toMatchObject({ status: 'REDEEMED' });
    });
  }

  // The points service refuses the capture, so the saga turns back after the coupon was redeemed.
  for (const step of [SagaStep.RELEASE_STARTED, SagaStep.WALLET_RELEASED, SagaStep.POINTS_RELEASED, SagaStep.COUPON_RELEASED, SagaStep.FAILED]) {
    it(`while turning back, after ${step}: all released once the wallet is started again`, async () => {
      const memberId = member();
      const coupon = await payAndKill(step, memberId, { refuseCapture: true });
      const { payment, balance } = await afterRestart(memberId);
      expect(payment).toMatchObject({ status: 'FAILED', failure_reason: 'POINTS_CAPTURE_REFUSED', wallet_step: 'RELEASED', points_step: 'RELEASED', coupon_step: 'RESTORED' });
      expect(balance).toBe(START);
      expect(points.available(memberId)).toBe(POINTS);
      expect(marketing.coupons.get(coupon)).toMatchObject({ status: 'ISSUED', paymentId: null });
    });
  }
});
