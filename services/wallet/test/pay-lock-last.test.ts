/**
 * The balance-only payment that takes the member's lock last (checkout.service.ts `payLockLast`):
 * what it holds the lock for, that the event it writes under the lock carries the balances after
 * it, that the daily counter on the account row stays equal to the payments it counts (direct,
 * held, released, concurrent), that the caps are exact under concurrency, and that what is judged
 * after the lock (velocity, member status) sees what committed while the payment waited for it.
 * Real MySQL and NATS; points RPC answered by the test doubles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryRunner } from 'typeorm';
import { newId, Role } from '@membergraph/platform';
import { walletChanged } from '@membergraph/contracts';
import { eventually, serviceUnderTest, startApp, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { PaymentEntity, PaymentStatus, WalletStep } from '../src/entities/payment.entity';
import { projectMemberStatus } from '../src/services/wallet-account.service';
import { AUDIT, TOP_UP, count, financeToken, gqlAs, ledgerFootprint, openMember, payClient, topUpInput, walletOf } from './helpers';
import { fakePoints, type FakePoints } from './checkout-doubles';

const ENV = {
  RISK_VELOCITY_MAX_PAYMENTS: '30',
  RISK_SINGLE_PAYMENT_CAP: '200000',
  RISK_DAILY_CAP: '300000',
  RISK_FREEZE_AFTER_HITS: '0',
  PAYMENT_OTP_THRESHOLD: '100000000',
  PAYMENT_LEASE_MS: '1000',
  PAYMENT_RECOVERY_INTERVAL_MS: '200',
  RPC_TIMEOUT_MS: '500',
};
const svc = serviceUnderTest('wallet', createApp, { env: ENV });
const ds = () => svc.app.kit.ds;
const yuan = (y: number) => y * 100;

const PAY = `mutation($input: PayInput!) { pay(input: $input) { id status walletAmount fromPrincipal fromBonus failureReason } }`;
const payer = () => tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'pos', scopes: ['wallet:pay'] });
const payInput = (memberId: string, amount: number, extra: Record<string, unknown> = {}) => ({ memberId, orderRef: `order-${newId()}`, amount, idempotencyKey: `p-${newId()}`, ...extra });

let points: FakePoints;
beforeAll(async () => {
  points = await fakePoints(svc.scope);
});
afterAll(async () => {
  await points?.close();
});

async function funded(amount = yuan(1_000), pts = 0): Promise<string> {
  const memberId = await openMember(svc.app);
  expect((await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, amount) }, payClient())).errors).toBeUndefined();
  points.balances.set(memberId, pts);
  return memberId;
}

async function auditOk() {
  expect((await gqlAs(svc.url, AUDIT, {}, financeToken())).data.walletAudit).toMatchObject({ ok: true, differences: [] });
}

/** The account's daily counter and what the payments it counts add up to. */
async function counterAndHistory(memberId: string) {
  const [a] = await ds().query('SELECT risk_day, risk_day_spent FROM wallet_account WHERE member_id = ?', [memberId]);
  const counted = await count(
    ds(),
    `SELECT COALESCE(SUM(wallet_amount), 0) AS n FROM wallet_payment WHERE member_id = ? AND risk_day = ? AND wallet_step IN ('HELD', 'CAPTURED')`,
    [memberId, a.risk_day],
  );
  return { day: a.risk_day as string | null, spent: Number(a.risk_day_spent), counted };
}

/** Records the statements each transaction sends, by verb and table, until `stop()`. */
function recordStatements() {
  const byRunner = new Map<QueryRunner, string[]>();
  const logger = ds().logger;
  const original = logger.logQuery.bind(logger);
  logger.logQuery = (query: string, parameters?: unknown[], runner?: QueryRunner) => {
    const sql = query.trim().replace(/\s+/g, ' ');
    const verb = /^(SET TRANSACTION|START TRANSACTION|COMMIT|ROLLBACK|SELECT|INSERT|UPDATE)/i.exec(sql)?.[1]?.toUpperCase() ?? sql;
    const table = /\b(?:FROM|INTO|UPDATE)\s+`?(\w+)`?/i.exec(sql)?.[1];
    if (runner) byRunner.set(runner, [...(byRunner.get(runner) ?? []), `${verb}${table ? ` ${table}` : ''}${/FOR UPDATE/i.test(sql) ? ' FOR UPDATE' : ''}`]);
    return original(query, parameters, runner);
  };
  return {
    /** The statements of the transaction that inserted a payment. */
    paymentTransaction: () => [...byRunner.values()].find((s) => s.includes('INSERT wallet_payment')),
    stop: () => {
      logger.logQuery = original;
    },
  };
}

/** Waits until a statement starting with `prefix` waits for a row lock. */
const lockWaitOn = (prefix: string) =>
  eventually(async () => {
    const n = await count(
      ds(),
      `SELECT COUNT(*) AS n FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id
        WHERE t.trx_state = 'LOCK WAIT' AND p.db = DATABASE() AND t.trx_query LIKE ?`,
      [`${prefix}%`],
    );
    expect(n).toBeGreaterThan(0);
  });

/** A balance payment row as another request would have committed it (only what the risk rules read matters). */
const capturedRow = (memberId: string, amount: number) => ({
  id: newId(),
  memberId,
  orderRef: `other-${newId()}`,
  storeId: null,
  idempotencyKey: `other-${newId()}`,
  fingerprint: '0'.repeat(64),
  amount,
  pointsUsed: 0,
  pointsValue: 0,
  couponDiscount: 0,
  walletAmount: amount,
  fromPrincipal: amount,
  fromBonus: 0,
  refundedPrincipal: 0,
  refundedBonus: 0,
  status: PaymentStatus.CAPTURED,
  pointsStep: 'NONE' as const,
  pointsHoldId: null,
  walletStep: WalletStep.CAPTURED,
  couponCode: null,
  couponStep: 'NONE' as const,
  couponId: null,
  refundedPoints: 0,
  riskDay: null,
  failureReason: null,
  failureDetail: null,
  expiresAt: new Date(),
  leaseUntil: new Date(),
  createdAt: new Date(),
  updatedAt: new Date(),
});

describe('a balance-only payment, lock last', () => {
  it('holds the member lock for one UPDATE, the event INSERT and the COMMIT, and announces the balances right after it', async () => {
    const memberId = await funded(); // 1,000 principal + 150 bonus
    const rec = recordStatements();
    let res;
    try {
      res = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(120)) }, payer());
    } finally {
      rec.stop();
    }
    expect(res.data.pay).toMatchObject({ status: 'CAPTURED', fromPrincipal: yuan(120), fromBonus: 0 });
    // Everything that needs no lock first; the lock is taken by the UPDATE, never by a SELECT ... FOR UPDATE.
    expect(rec.paymentTransaction()).toEqual([
      'SET TRANSACTION',
      'START TRANSACTION',
      'INSERT wallet_payment',
      'INSERT wallet_journal',
      'INSERT wallet_entry',
      'UPDATE wallet_account',
      'INSERT outbox',
      'COMMIT',
    ]);
    const [event] = await ds().query("SELECT payload FROM outbox WHERE type = 'wallet.changed' AND subject = ? ORDER BY seq DESC LIMIT 1", [memberId]);
    const data = walletChanged.parse(JSON.parse(event.payload).data);
    expect(data).toMatchObject({ memberId, kind: 'PAYMENT_CAPTURE', reference: res.data.pay.id, principalDelta: -yuan(120), bonusDelta: 0, principal: yuan(880), bonus: yuan(150) });
    expect(await walletOf(svc.url, memberId)).toMatchObject({ principal: yuan(880), bonus: yuan(150) });
    expect(await counterAndHistory(memberId)).toMatchObject({ spent: yuan(120), counted: yuan(120) });
    await auditOk();
  });

  it('leaves nothing of a lock-last attempt it could not finish: the locked path pays from the bonus or refuses', async () => {
    const memberId = await funded();
    expect((await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(1_000)) }, payer())).data.pay.status).toBe('CAPTURED');
    // The principal is gone: the split needs the bonus, which only the locked path decides.
    const bonus = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(100)) }, payer());
    expect(bonus.data.pay).toMatchObject({ status: 'CAPTURED', fromPrincipal: 0, fromBonus: yuan(100) });
    const before = await ledgerFootprint(ds());
    const payments = await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_payment');
    const short = await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(51)) }, payer());
    expect(short.errors?.[0]?.extensions).toMatchObject({ code: 'INSUFFICIENT_FUNDS', balance: yuan(50) });
    expect(await ledgerFootprint(ds())).toEqual(before);
    expect(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_payment')).toBe(payments);
    expect(await counterAndHistory(memberId)).toMatchObject({ spent: yuan(1_100), counted: yuan(1_100) });
    await auditOk();
  });

  it('keeps the daily counter equal to the payments it counts, with direct payments, holds and released holds racing', async () => {
    const memberId = await funded(yuan(1_000), 100_000);
    const token = await payer();
    const round = () =>
      Promise.all([
        ...Array.from({ length: 6 }, () => gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10)) }, token)),
        // 100 points pay 1 yuan: 9 yuan held from the balance.
        ...Array.from({ length: 6 }, () => gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(10), { pointsToUse: 100 }) }, token)),
      ]);
    // First the points capture is refused: every saga releases the balance it held.
    points.behaviour.capture = 'refuse';
    let first;
    try {
      first = await round();
    } finally {
      points.behaviour.capture = 'normal';
    }
    expect(first.map((r) => r.data.pay.status)).toEqual([...Array(6).fill('CAPTURED'), ...Array(6).fill('FAILED')]);
    const second = await round();
    expect(second.map((r) => r.data.pay.status)).toEqual(Array(12).fill('CAPTURED'));
    const expected = 12 * yuan(10) + 6 * yuan(9);
    expect(await counterAndHistory(memberId)).toMatchObject({ spent: expected, counted: expected });
    expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(1_150) - expected);
    await auditOk();
  });

  it('caps the day exactly under concurrency: of 10 racing 500-yuan payments 6 reach the 3,000-yuan cap', async () => {
    const memberId = await funded(yuan(5_000));
    const token = await payer();
    const results = await Promise.all(Array.from({ length: 10 }, () => gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(500)) }, token)));
    expect(results.filter((r) => r.data?.pay?.status === 'CAPTURED')).toHaveLength(6);
    for (const r of results.filter((x) => !x.data?.pay)) expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'RISK_REJECTED', rule: 'DAILY_CAP' });
    expect(await counterAndHistory(memberId)).toMatchObject({ spent: yuan(3_000), counted: yuan(3_000) });
    expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(5_150 - 3_000));
  });

  it('rebuilds the counter of an account that never counted (opened before it existed) from the day’s payments', async () => {
    const memberId = await funded();
    for (let i = 0; i < 2; i++) expect((await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(100)) }, payer())).data.pay.status).toBe('CAPTURED');
    await ds().query('UPDATE wallet_account SET risk_day = NULL, risk_day_spent = 0 WHERE member_id = ?', [memberId]);
    expect((await gqlAs(svc.url, PAY, { input: payInput(memberId, yuan(100)) }, payer())).data.pay.status).toBe('CAPTURED');
    expect(await counterAndHistory(memberId)).toMatchObject({ spent: yuan(300), counted: yuan(300) });
    expect((await counterAndHistory(memberId)).day).not.toBeNull();
  });
});

describe('what is judged after the lock', () => {
  it('counts a payment that committed while this one waited for the lock (velocity), and a member frozen meanwhile', async () => {
    const strict = await startApp(createApp(svc.scope.env('wallet', { ...ENV, RISK_VELOCITY_MAX_PAYMENTS: '1' })));
    try {
      for (const change of ['payment', 'memberStatus'] as const) {
        const memberId = await funded();
        // Another request holds the member's lock, as a payment between its UPDATE and its COMMIT does.
        const other = ds().createQueryRunner();
        await other.connect();
        await other.startTransaction('READ COMMITTED');
        await other.query('SELECT member_id FROM wallet_account WHERE member_id = ? FOR UPDATE', [memberId]);
        if (change === 'payment') await other.manager.getRepository(PaymentEntity).insert(capturedRow(memberId, yuan(10)));
        const paying = gqlAs(strict.url, PAY, { input: payInput(memberId, yuan(10)) }, payer());
        try {
          await lockWaitOn('UPDATE wallet_account');
          // The freeze is projected (and committed) while the payment waits: nothing of it is locked.
          if (change === 'memberStatus') await svc.app.kit.uow((em) => projectMemberStatus(em, memberId, 'FROZEN', new Date()));
        } finally {
          await other.commitTransaction();
          await other.release();
        }
        const res = await paying;
        if (change === 'payment') expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'RISK_REJECTED', rule: 'VELOCITY', limit: 1, attempted: 2 });
        else expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'MEMBER_FROZEN' });
        // Refused: nothing taken (the other payment's row stands for a payment; it moved no money here).
        expect(await walletOf(svc.url, memberId)).toMatchObject({ balance: yuan(1_150) });
      }
    } finally {
      await strict.stop();
    }
  });
});
