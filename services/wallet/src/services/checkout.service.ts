import { In, MoreThan, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { AppError, ErrorCode, affectedRows, badField, businessDay, conflict, isDuplicateKey, newId, notFound, requestFingerprint, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData, type HoldPointsRequest } from '@membergraph/contracts';
import type { WalletConfig } from '../config';
import {
  addSpend,
  businessDayStart,
  needsOtp,
  planCheckout,
  removeSpend,
  riskVerdict,
  shouldFreeze,
  spentOn,
  type CheckoutPlan,
  type DailySpend,
  type RiskHistory,
  type RiskHit,
  type RiskRules,
} from '../domain/checkout';
import { JournalKind, SpendOrder, debitPostings, paymentCapturePostings, paymentHoldPostings, paymentReleasePostings, planDebit } from '../domain/ledger';
import { MAX_TOP_UP } from '../domain/top-up';
import { MemberStatus, WalletStatus, type WalletBalances } from '../domain/wallet';
import { CouponStep, PaymentEntity, PaymentStatus, PointsStep, WalletStep, type PaymentRow } from '../entities/payment.entity';
import { announceFromAccount, postJournal, writeJournal } from './ledger.service';
import { assertMayMoveMoney, lockWallet, moneyRefusal, peekWallet, setWalletStatus, type AccountWithStatus } from './wallet-account.service';
import { RiskHitEntity } from '../entities/risk-hit.entity';
import { checkText } from './top-up.service';
import { insufficientFunds } from './errors';
import { couponsOverNats, memberOverNats, pointsOverNats, type CouponPort, type MemberPort, type PointsPort } from './remote-calls';

/** Error codes of checkout beyond the kit's. */
export const CheckoutErrorCode = { OTP_REQUIRED: 'OTP_REQUIRED', RISK_REJECTED: 'RISK_REJECTED' } as const;

/** Points holds outlive the balance hold by this much, so a capture decided in time still finds them. */
export const POINTS_HOLD_GRACE_SECONDS = 120;

/** The points the saga steps through; a test hook may stop the process after any of them. */
export const SagaStep = {
  PAYMENT_CREATED: 'PAYMENT_CREATED',
  COUPON_LOCKED: 'COUPON_LOCKED',
  POINTS_HELD: 'POINTS_HELD',
  WALLET_HELD: 'WALLET_HELD',
  CAPTURE_STARTED: 'CAPTURE_STARTED',
  COUPON_REDEEMED: 'COUPON_REDEEMED',
  POINTS_CAPTURED: 'POINTS_CAPTURED',
  CAPTURED: 'CAPTURED',
  RELEASE_STARTED: 'RELEASE_STARTED',
  WALLET_RELEASED: 'WALLET_RELEASED',
  POINTS_RELEASED: 'POINTS_RELEASED',
  COUPON_RELEASED: 'COUPON_RELEASED',
  FAILED: 'FAILED',
} as const;
export type SagaStep = (typeof SagaStep)[keyof typeof SagaStep];

/** Test seams: `afterStep` runs after each step has committed; throwing from it simulates a crash there. */
export interface SagaHooks {
  afterStep?: (step: SagaStep, paymentId: string) => void | Promise<void>;
}

export interface CheckoutDeps {
  kit: ServiceKit<WalletConfig>;
  points: PointsPort;
  member: MemberPort;
  coupons: CouponPort;
  hooks: SagaHooks;
}

/** The ports to the points and member services over NATS request/reply. */
export function checkoutDeps(kit: ServiceKit<WalletConfig>, hooks: SagaHooks = {}): CheckoutDeps {
  const bus = () => kit.bus;
  const timeout = kit.config.RPC_TIMEOUT_MS;
  return { kit, hooks, points: pointsOverNats(bus, timeout), member: memberOverNats(bus, timeout), coupons: couponsOverNats(bus, timeout) };
}

export interface PayInput {
  memberId: string;
  orderRef: string;
  amount: number;
  pointsToUse?: number | null;
  couponCode?: string | null;
  /** The store the order is paid at (cross-store settlement). */
  storeId?: string | null;
  otp?: string | null;
  idempotencyKey: string;
}

const otpRequired = (reason: string, message: string) => new AppError(CheckoutErrorCode.OTP_REQUIRED, message, { field: 'otp', reason });
const riskRejected = (hit: RiskHit) =>
  new AppError(CheckoutErrorCode.RISK_REJECTED, `The payment breaks the ${hit.rule} risk rule`, { rule: hit.rule, limit: hit.limit, attempted: hit.attempted });

/** Checks a pay request and splits the order; throws BAD_USER_INPUT naming the field. */
export function validatePay(config: WalletConfig, input: PayInput): CheckoutPlan {
  checkText('memberId', input.memberId, 26);
  checkText('orderRef', input.orderRef, 100);
  checkText('idempotencyKey', input.idempotencyKey, 128);
  if (!Number.isSafeInteger(input.amount) || input.amount < 1 || input.amount > MAX_TOP_UP) {
    throw badField('amount', `amount must be a whole number of fen between 1 and ${MAX_TOP_UP}`);
  }
  checkText('couponCode', input.couponCode, 64, false);
  checkText('storeId', input.storeId, 64, false);
  // An empty otp reads as none (payments under the threshold need none).
  if (input.otp && input.otp.length > 16) throw badField('otp', 'otp must be at most 16 characters');
  const planned = planCheckout(input.amount, input.pointsToUse ?? 0, { pointsPerYuan: config.POINTS_PER_YUAN, maxSharePercent: config.POINTS_MAX_SHARE_PERCENT });
  if (!planned.ok) throw badField(planned.field, planned.message);
  return planned.plan;
}

const repo = (deps: CheckoutDeps | EntityManager) => ('kit' in deps ? deps.kit.ds.manager : deps).getRepository(PaymentEntity);
const isTerminal = (p: PaymentRow) => p.status === PaymentStatus.CAPTURED || p.status === PaymentStatus.FAILED;

/**
 * Pays an order with points and balance as one saga: hold points, hold balance, capture both,
 * or release whatever was held. Refusals found before anything is held (bad input, no wallet,
 * frozen, insufficient balance, risk, OTP) throw and write nothing but a risk flag; once the
 * payment is recorded, a failure is a FAILED payment with its reason. Same key + same input
 * returns that payment; another input is CONFLICT.
 */
export async function pay(deps: CheckoutDeps, input: PayInput): Promise<PaymentRow> {
  const { config } = deps.kit;
  const plan = validatePay(config, input);
  // The OTP is single use and not part of what is paid: a retry may carry another or none.
  const couponCode = input.couponCode?.trim() ? input.couponCode.trim() : null;
  const storeId = input.storeId?.trim() ? input.storeId.trim() : null;
  // Absent coupon/store drop out of the fingerprint, so keys from before they existed still replay.
  const fingerprint = requestFingerprint({ memberId: input.memberId, orderRef: input.orderRef, amount: plan.amount, pointsToUse: plan.pointsUsed, couponCode, storeId });
  // Balance only (no points, no coupon): nothing remote to hold, so no saga: one transaction.
  const direct = plan.pointsUsed === 0 && couponCode === null;
  const otp = needsOtp(plan.walletAmount + plan.pointsValue, config.PAYMENT_OTP_THRESHOLD);
  // A used key is answered before anything else runs (no OTP burnt, no saga step repeated). A
  // direct payment without OTP skips this read: its INSERT of the payment row is the claim, and a
  // duplicate key there answers with the first payment just the same.
  if (!direct || otp) {
    const existing = await repo(deps).findOneBy({ idempotencyKey: input.idempotencyKey });
    if (existing) return replay(deps, existing, fingerprint);
  }

  // A direct payment without OTP judges everything under the member's lock in its transaction;
  // with an OTP the local checks still run first, so a refused payment never burns a code.
  if (!direct || otp) await precheck(deps, input.memberId, input.orderRef, plan, couponCode !== null);
  if (otp) await verifyOtp(deps, input.memberId, input.otp);

  const now = new Date();
  const row: PaymentRow = {
    id: newId(),
    memberId: input.memberId,
    orderRef: input.orderRef,
    storeId,
    idempotencyKey: input.idempotencyKey,
    fingerprint,
    ...plan,
    fromPrincipal: 0,
    fromBonus: 0,
    refundedPrincipal: 0,
    refundedBonus: 0,
    status: PaymentStatus.PENDING,
    // Written before the hold call: after a crash, release repeats the idempotent call to learn the hold.
    pointsStep: plan.pointsUsed > 0 ? PointsStep.REQUESTED : PointsStep.NONE,
    pointsHoldId: null,
    walletStep: WalletStep.NONE,
    couponCode,
    // Written before the lock call, like the points hold.
    couponStep: couponCode ? CouponStep.REQUESTED : CouponStep.NONE,
    couponId: null,
    refundedPoints: 0,
    riskDay: null,
    failureReason: null,
    failureDetail: null,
    expiresAt: new Date(now.getTime() + config.PAYMENT_HOLD_TTL_SECONDS * 1000),
    leaseUntil: new Date(now.getTime() + config.PAYMENT_LEASE_MS),
    createdAt: now,
    updatedAt: now,
  };
  if (direct) return payDirect(deps, row);
  try {
    await insertPayment(repo(deps).manager, row);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // The same key raced us: answer with its payment.
    return replay(deps, await repo(deps).findOneByOrFail({ idempotencyKey: input.idempotencyKey }), fingerprint);
  }
  await deps.hooks.afterStep?.(SagaStep.PAYMENT_CREATED, row.id);
  return drive(deps, row, 'forward');
}

/** One INSERT, without TypeORM's reload of defaulted columns (the row is complete). */
const insertPayment = (em: EntityManager, row: PaymentRow) => em.createQueryBuilder().insert().into(PaymentEntity).values(row).updateEntity(false).execute();

/**
 * A balance-only payment in ONE transaction, with the member's lock held as briefly as the
 * ceiling's `UPDATE ... WHERE balance >= ?` + INSERT + COMMIT: {@link payLockLast} first; what it
 * cannot pay that way (bonus needed, refusals, an account whose daily counter was never set) it
 * leaves untouched for {@link payLocked}, which judges under the lock as before. Nothing remote is
 * involved, so there is nothing to hold or recover: a crash before the commit leaves nothing,
 * after it the payment is complete, and a retry with the key replays it. Refusals throw and leave
 * nothing but a risk hit (committed with its event and a possible automatic freeze, like the
 * precheck's).
 */
async function payDirect(deps: CheckoutDeps, row: PaymentRow): Promise<PaymentRow> {
  let outcome: { paid: PaymentRow } | { refused: AppError };
  try {
    const paid = await payLockLast(deps, row);
    if (paid) outcome = { paid };
    else {
      // Not paid lock-last: the key may be a used one (a replay is answered, never judged again).
      const existing = await repo(deps).findOneBy({ idempotencyKey: row.idempotencyKey });
      if (existing) return replay(deps, existing, row.fingerprint);
      outcome = await payLocked(deps, row);
    }
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // The key was used (its transaction committed first, or long ago): answer with its payment.
    return replay(deps, await repo(deps).findOneByOrFail({ idempotencyKey: row.idempotencyKey }), row.fingerprint);
  }
  if ('refused' in outcome) throw outcome.refused;
  await deps.hooks.afterStep?.(SagaStep.CAPTURED, row.id);
  return outcome.paid;
}

/** The payment as it is written when its balance is captured at once (no hold). */
function capturedPayment(config: WalletConfig, row: PaymentRow, split: WalletBalances, riskDay: string, now: Date): PaymentRow {
  return {
    ...row,
    status: PaymentStatus.CAPTURED,
    walletStep: WalletStep.CAPTURED,
    fromPrincipal: split.principal,
    fromBonus: split.bonus,
    riskDay,
    createdAt: now,
    updatedAt: now,
    expiresAt: new Date(now.getTime() + config.PAYMENT_HOLD_TTL_SECONDS * 1000),
    leaseUntil: now,
  };
}

/** Rolls the lock-last transaction back: the payment goes to the locked path. */
class TakeLockedPath extends Error {}

/**
 * The common case, lock last: everything that does not need the member's lock is written first
 * (the payment row, which is also the idempotency claim, then the PAYMENT_CAPTURE journal and its
 * entries, all from the principal); then ONE conditional UPDATE takes the lock and debits only if
 * the wallet is ACTIVE, the principal covers the amount (so the principal-first split written
 * before is the split) and the daily counter on the row has room, moving that counter in the same
 * statement; then one INSERT ... SELECT writes `wallet.changed` with the balances after, provided
 * the member is ACTIVE and the velocity window has room, both read after the lock (a new READ
 * COMMITTED snapshot per statement sees every payment committed before the lock was granted:
 * exact). The lock is held for that UPDATE, that INSERT and the COMMIT. Anything else rolls back
 * (null: nothing written) for {@link payLocked} to judge and report.
 */
async function payLockLast(deps: CheckoutDeps, row: PaymentRow): Promise<PaymentRow | null> {
  const { kit } = deps;
  const { config } = kit;
  // The single-payment cap needs no state: over it, the locked path refuses and records the hit.
  if (row.walletAmount > config.RISK_SINGLE_PAYMENT_CAP) return null;
  try {
    return await kit.uow(async (em) => {
      const now = new Date();
      const today = businessDay(now, config.BUSINESS_TIME_ZONE);
      const split = { principal: row.walletAmount, bonus: 0 };
      const paid = capturedPayment(config, row, split, today, now);
      // First: a used key fails here, before anything else is written.
      await insertPayment(em, paid);
      const postings = debitPostings(row.memberId, split);
      const journal = await writeJournal(em, { kind: JournalKind.PAYMENT_CAPTURE, memberId: row.memberId, reference: row.id, postings }, now);
      if (!(await takePrincipalLast(em, config, row.memberId, row.walletAmount, today, now))) throw new TakeLockedPath();
      const announced = await announceFromAccount(kit, em, journal, { principal: -row.walletAmount, bonus: 0 }, mayStillPay(config, now));
      if (!announced) throw new TakeLockedPath();
      return paid;
    });
  } catch (err) {
    if (err instanceof TakeLockedPath) return null;
    throw err;
  }
}

/**
 * The lock-last debit: the {@link spentOn} / {@link addSpend} / daily-cap rules of
 * domain/checkout.ts on the row's own columns, in one statement (MySQL assigns left to right, so
 * `risk_day_spent` is computed from the old `risk_day`). Returns whether it debited.
 */
async function takePrincipalLast(em: EntityManager, config: WalletConfig, memberId: string, amount: number, today: string, now: Date): Promise<boolean> {
  const res = await em.query(
    `UPDATE wallet_account
        SET principal = principal - ?,
            risk_day_spent = IF(risk_day = ?, risk_day_spent, 0) + ?,
            risk_day = ?,
            updated_at = ?
      WHERE member_id = ? AND status = ? AND principal >= ?
        AND risk_day IS NOT NULL AND IF(risk_day = ?, risk_day_spent, 0) + ? <= ?`,
    [amount, today, amount, today, now, memberId, WalletStatus.ACTIVE, amount, today, amount, config.RISK_DAILY_CAP],
  );
  return affectedRows(res) === 1;
}

/**
 * What is judged after the lock-last UPDATE, on the locked row `a`: the member is ACTIVE in the
 * status projection, and (when the rule is on) this payment, already written, is at most the N-th
 * balance payment in the velocity window, i.e. the (N+1)-th newest is older than the window: an
 * index range of N+1 rows on (member_id, created_at), not a count of the whole window.
 */
function mayStillPay(config: WalletConfig, now: Date): { sql: string; params: unknown[] } {
  const active = `NOT EXISTS (SELECT 1 FROM wallet_member_status s WHERE s.member_id = a.member_id AND s.status <> '${MemberStatus.ACTIVE}')`;
  if (config.RISK_VELOCITY_MAX_PAYMENTS === 0) return { sql: active, params: [] };
  return {
    sql: `${active} AND COALESCE(
            (SELECT p.created_at FROM wallet_payment p
              WHERE p.member_id = a.member_id AND p.wallet_step IN ('${WalletStep.HELD}', '${WalletStep.CAPTURED}')
              ORDER BY p.created_at DESC LIMIT 1 OFFSET ?), ?) < ?`,
    params: [config.RISK_VELOCITY_MAX_PAYMENTS, new Date(0), velocityWindowStart(config, now)],
  };
}

/**
 * The locked path: lock the member, judge frozen/status/risk/balance under the lock, insert the
 * payment already CAPTURED and post one PAYMENT_CAPTURE journal (the member's balance straight to
 * SPEND_CLEARING, like a debit; no PAYMENT_HOLD in between), moving the daily counter with it.
 */
async function payLocked(deps: CheckoutDeps, row: PaymentRow): Promise<{ paid: PaymentRow } | { refused: AppError }> {
  const { kit } = deps;
  return kit.uow(async (em) => {
    const account = await lockWallet(em, row.memberId);
    if (!account) return { refused: notFound('Wallet') };
    const refusal = moneyRefusal(account);
    if (refusal) return { refused: refusal };
    const now = new Date();
    const history = await riskHistory(kit, em, account, now);
    const hit = riskVerdict(row.walletAmount, history, riskRules(kit.config));
    if (hit) {
      await flagRisk(kit, em, row.memberId, row.orderRef, hit, null);
      return { refused: riskRejected(hit) };
    }
    const split = planDebit(row.walletAmount, account, SpendOrder.PRINCIPAL_FIRST);
    if (!split) {
      const balance = account.principal + account.bonus;
      return { refused: insufficientFunds('The wallet balance does not cover the amount', { field: 'amount', balance, needed: row.walletAmount }) };
    }
    const paid = capturedPayment(kit.config, row, split, history.today, now);
    // First, so a racing retry with the same key fails here before anything is posted.
    await insertPayment(em, paid);
    await postJournal(kit, em, {
      kind: JournalKind.PAYMENT_CAPTURE,
      memberId: row.memberId,
      reference: row.id,
      postings: debitPostings(row.memberId, split),
      before: account,
      riskCounter: addSpend(history.today, history.spentToday, row.walletAmount),
    });
    return { paid };
  });
}

async function replay(deps: CheckoutDeps, first: PaymentRow, fingerprint: string): Promise<PaymentRow> {
  if (first.fingerprint !== fingerprint) throw conflict('idempotencyKey was already used with a different input', { field: 'idempotencyKey' });
  // A retry while the first request is still running waits a little for its outcome.
  const deadline = Date.now() + Math.min(deps.kit.config.PAYMENT_LEASE_MS, 10_000);
  let current = first;
  while (!isTerminal(current) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    current = await repo(deps).findOneByOrFail({ id: first.id });
  }
  return current;
}

const dailySpend = (account: AccountWithStatus): DailySpend => ({ day: account.riskDay, spent: account.riskDaySpent });
const velocityWindowStart = (config: WalletConfig, now: Date) => new Date(now.getTime() - config.RISK_VELOCITY_WINDOW_MINUTES * 60_000);

/**
 * What the risk rules need of the member's past, for a payment judged at `now` on `account` (read
 * under its lock for an exact verdict): the business day, the balance taken in it (the account's
 * counter; rebuilt from the payments of the day only for an account it never counted), and the
 * balance payments within the velocity window (asked only while that rule is on).
 */
async function riskHistory(kit: ServiceKit<WalletConfig>, em: EntityManager, account: AccountWithStatus, now: Date): Promise<RiskHistory & { today: string }> {
  const { config } = kit;
  const today = businessDay(now, config.BUSINESS_TIME_ZONE);
  let spentToday = spentOn(dailySpend(account), today);
  if (spentToday === null) {
    const [row] = (await em.query(
      `SELECT COALESCE(SUM(wallet_amount), 0) AS spent FROM wallet_payment
        WHERE member_id = ? AND created_at >= ? AND wallet_step IN ('${WalletStep.HELD}', '${WalletStep.CAPTURED}')`,
      [account.memberId, businessDayStart(now, config.BUSINESS_TIME_ZONE)],
    )) as Array<{ spent: string }>;
    spentToday = Number(row?.spent ?? 0);
  }
  let recentPayments = 0;
  if (config.RISK_VELOCITY_MAX_PAYMENTS > 0) {
    const [row] = (await em.query(
      `SELECT COUNT(*) AS recent FROM wallet_payment
        WHERE member_id = ? AND created_at >= ? AND wallet_step IN ('${WalletStep.HELD}', '${WalletStep.CAPTURED}')`,
      [account.memberId, velocityWindowStart(config, now)],
    )) as Array<{ recent: string }>;
    recentPayments = Number(row?.recent ?? 0);
  }
  return { today, spentToday, recentPayments };
}

function riskRules(config: WalletConfig): RiskRules {
  return {
    singlePaymentCap: config.RISK_SINGLE_PAYMENT_CAP,
    dailyCap: config.RISK_DAILY_CAP,
    velocityMaxPayments: config.RISK_VELOCITY_MAX_PAYMENTS,
    velocityWindowMinutes: config.RISK_VELOCITY_WINDOW_MINUTES,
  };
}

/** The actor of freezes the risk rules decide, in the audit log. */
export const RISK_ACTOR = 'system:risk';

/**
 * Records a risk hit for the back office and automation (`wallet.risk_flagged`), in the caller's
 * transaction, and freezes the wallet when it is the hit that reaches RISK_FREEZE_AFTER_HITS within
 * RISK_FREEZE_WINDOW_MINUTES, counting from the last unfreeze by staff (audited as `system:risk`). The member's lock is taken first (the
 * fixed order; the hold step holds it already), so concurrent hits count exactly and freeze once.
 * Returns whether this hit froze the wallet.
 */
async function flagRisk(kit: ServiceKit<WalletConfig>, em: EntityManager, memberId: string, orderRef: string, hit: RiskHit, paymentId: string | null): Promise<boolean> {
  const account = await lockWallet(em, memberId);
  const now = new Date();
  await em.getRepository(RiskHitEntity).insert({ id: newId(), memberId, rule: hit.rule, limit: hit.limit, attempted: hit.attempted, orderRef, paymentId, createdAt: now });
  const data = checkedData(EventType.WalletRiskFlagged, { memberId, rule: hit.rule, limit: hit.limit, attempted: hit.attempted, orderRef, paymentId });
  await kit.publish(em, EventType.WalletRiskFlagged, memberId, data);
  const rules = { freezeAfterHits: kit.config.RISK_FREEZE_AFTER_HITS, freezeWindowMinutes: kit.config.RISK_FREEZE_WINDOW_MINUTES };
  if (!account || account.status === WalletStatus.FROZEN || rules.freezeAfterHits === 0) return false;
  const since = new Date(now.getTime() - rules.freezeWindowMinutes * 60_000);
  // Hits before staff last unfroze the wallet were judged by them: they do not count again.
  const [row] = (await em.query(
    `SELECT COUNT(*) AS n FROM wallet_risk_hit
      WHERE member_id = ?
        AND created_at >= GREATEST(?, COALESCE((SELECT MAX(at) FROM audit_log WHERE target = ? AND action = 'WALLET_UNFROZEN'), ?))`,
    [memberId, since, memberId, since],
  )) as Array<{ n: string }>;
  const hits = Number(row?.n ?? 0);
  if (!shouldFreeze(hits, rules)) return false;
  await setWalletStatus(em, RISK_ACTOR, { memberId, reason: `${hits} risk hits within ${rules.freezeWindowMinutes} minutes (last: ${hit.rule})` }, WalletStatus.FROZEN);
  kit.log.warn({ memberId, hits, rule: hit.rule }, 'wallet frozen automatically after repeated risk hits');
  return true;
}

/**
 * Fast refusals before anything is held (not under a lock: the hold step checks again under the
 * member's lock, which is what makes balance and daily cap exact).
 */
async function precheck(deps: CheckoutDeps, memberId: string, orderRef: string, plan: CheckoutPlan, withCoupon: boolean): Promise<void> {
  const { kit } = deps;
  const em = kit.ds.manager;
  const account = await peekWallet(em, memberId);
  if (!account) throw notFound('Wallet');
  assertMayMoveMoney(account);
  // With a coupon the balance part is only known once it is locked: balance and risk are then
  // judged at the hold, under the member's lock (a refusal is a FAILED payment with the coupon released).
  if (withCoupon) return;
  const hit = riskVerdict(plan.walletAmount, await riskHistory(kit, em, account, new Date()), riskRules(kit.config));
  if (hit) {
    await kit.uow((tx) => flagRisk(kit, tx, memberId, orderRef, hit, null));
    throw riskRejected(hit);
  }
  if (account.principal + account.bonus < plan.walletAmount) {
    throw insufficientFunds('The wallet balance does not cover the amount', { field: 'amount', balance: account.principal + account.bonus, needed: plan.walletAmount });
  }
}

async function verifyOtp(deps: CheckoutDeps, memberId: string, otp: string | null | undefined): Promise<void> {
  if (!otp) throw otpRequired('MISSING', 'This payment needs the member’s PAYMENT one-time code');
  const reply = await deps.member.verifyOtp({ memberId, purpose: 'PAYMENT', code: otp });
  if (reply.kind === 'ok') {
    if (reply.value.ok) return;
    throw otpRequired(reply.value.reason ?? 'MISMATCH', `The one-time code was refused (${reply.value.reason ?? 'MISMATCH'})`);
  }
  // The member service could not say: the code is not verified, and the payer may try again.
  throw otpRequired('ERROR', 'The one-time code could not be verified now; try again');
}

type Next = 'next' | 'stop';

/**
 * Drives a payment until it is CAPTURED or FAILED, or until a remote call has no answer (then it
 * stays as it is and recovery picks it up after its lease). `recover`: the driver that started it
 * is gone, so a PENDING payment is released (capture only goes on once it has started).
 */
export async function drive(deps: CheckoutDeps, start: string | PaymentRow, mode: 'forward' | 'recover'): Promise<PaymentRow> {
  const id = typeof start === 'string' ? start : start.id;
  // The row just inserted by pay() is not read back; after each step it is (a step may have lost a race).
  let p = typeof start === 'string' ? await repo(deps).findOneByOrFail({ id }) : start;
  for (let i = 0; i < 20; i++) {
    const next = await step(deps, p, mode);
    p = await repo(deps).findOneByOrFail({ id });
    if (next === 'stop' || isTerminal(p)) break;
  }
  return p;
}

async function step(deps: CheckoutDeps, p: PaymentRow, mode: 'forward' | 'recover'): Promise<Next> {
  switch (p.status) {
    case PaymentStatus.PENDING:
      if (p.expiresAt.getTime() <= Date.now()) return startRelease(deps, p, 'HOLD_EXPIRED', 'the checkout did not complete before its holds expired');
      if (mode === 'recover') return startRelease(deps, p, 'INTERRUPTED', 'the checkout was interrupted before capture');
      // The coupon first: its discount decides what points and balance pay.
      if (p.couponStep === CouponStep.REQUESTED) return lockCoupon(deps, p);
      if (p.pointsStep === PointsStep.REQUESTED) return holdPoints(deps, p);
      if (p.walletStep === WalletStep.NONE && p.walletAmount > 0) return holdWallet(deps, p);
      return startCapture(deps, p);
    case PaymentStatus.CAPTURING:
      // Coupon, then points, then balance: each remote step can still be undone before the local capture.
      if (p.couponStep === CouponStep.LOCKED) return redeemCoupon(deps, p);
      if (p.pointsStep === PointsStep.HELD) return capturePoints(deps, p);
      return captureWallet(deps, p);
    case PaymentStatus.RELEASING:
      // Local first: the balance comes back even while the points service is away.
      if (p.walletStep === WalletStep.HELD) return releaseWallet(deps, p);
      if (p.pointsStep === PointsStep.HELD || p.pointsStep === PointsStep.REQUESTED) return releasePoints(deps, p);
      if (p.couponStep === CouponStep.REQUESTED || p.couponStep === CouponStep.LOCKED || p.couponStep === CouponStep.REDEEMED) return releaseCoupon(deps, p);
      return finishRelease(deps, p);
    default:
      return 'stop';
  }
}

/** A guarded state change of one payment (compare-and-set); renews the driver's lease. */
async function transition(deps: CheckoutDeps, p: PaymentRow, where: FindOptionsWhere<PaymentRow>, set: Partial<PaymentRow>): Promise<boolean> {
  const now = new Date();
  const res = await repo(deps).update({ ...where, id: p.id }, { ...set, updatedAt: now, leaseUntil: new Date(now.getTime() + deps.kit.config.PAYMENT_LEASE_MS) });
  return res.affected === 1;
}

async function startRelease(deps: CheckoutDeps, p: PaymentRow, reason: string, detail: string, from: PaymentStatus = PaymentStatus.PENDING): Promise<Next> {
  const where: FindOptionsWhere<PaymentRow> = { status: from };
  // Leaving CAPTURING is only right while nothing has been captured.
  // (A redeemed coupon is not captured money: releasing restores it.)
  if (from === PaymentStatus.CAPTURING) Object.assign(where, { walletStep: In([WalletStep.NONE, WalletStep.HELD]), pointsStep: In([PointsStep.NONE, PointsStep.HELD, PointsStep.RELEASED, PointsStep.EXPIRED]) });
  if (await transition(deps, p, where, { status: PaymentStatus.RELEASING, failureReason: reason, failureDetail: detail.slice(0, 255) })) {
    await deps.hooks.afterStep?.(SagaStep.RELEASE_STARTED, p.id);
  }
  // Whoever won decided the direction; the next round follows it.
  return 'next';
}

/** What is sent to hold the points: the same bytes every time, so a repeat returns the first hold. */
function holdRequest(p: PaymentRow): HoldPointsRequest {
  return { memberId: p.memberId, amount: p.pointsUsed, reference: p.id, idempotencyKey: `wallet-pay:${p.id}`, ttlSeconds: pointsHoldTtl(p) };
}

const pointsHoldTtl = (p: PaymentRow) => Math.ceil((p.expiresAt.getTime() - p.createdAt.getTime()) / 1000) + POINTS_HOLD_GRACE_SECONDS;
const pointsHoldGone = (p: PaymentRow) => Date.now() > p.createdAt.getTime() + pointsHoldTtl(p) * 1000;

async function holdPoints(deps: CheckoutDeps, p: PaymentRow): Promise<Next> {
  const r = await deps.points.hold(holdRequest(p));
  if (r.kind === 'ok') {
    if (r.value.status === 'HELD' || r.value.status === 'CAPTURED') {
      if (await transition(deps, p, { pointsStep: PointsStep.REQUESTED }, { pointsStep: PointsStep.HELD, pointsHoldId: r.value.holdId })) {
        await deps.hooks.afterStep?.(SagaStep.POINTS_HELD, p.id);
      }
      return 'next';
    }
    await transition(deps, p, { pointsStep: PointsStep.REQUESTED }, { pointsStep: PointsStep.NOT_HELD, pointsHoldId: r.value.holdId });
    return startRelease(deps, p, 'POINTS_HOLD_EXPIRED', `the points hold is ${r.value.status}`);
  }
  if (r.kind === 'refused') {
    await transition(deps, p, { pointsStep: PointsStep.REQUESTED }, { pointsStep: PointsStep.NOT_HELD });
    return startRelease(deps, p, r.code === ErrorCode.INSUFFICIENT_FUNDS ? 'INSUFFICIENT_POINTS' : 'POINTS_REFUSED', `${r.code}: ${r.message}`);
  }
  // No responders: nobody got the request, so nothing is held. Otherwise releasing finds out.
  if (!r.delivered) await transition(deps, p, { pointsStep: PointsStep.REQUESTED }, { pointsStep: PointsStep.NOT_HELD });
  return startRelease(deps, p, 'POINTS_UNAVAILABLE', r.message);
}

/** Locks the member's account, then the payment row (the fixed order: member, payment; journals take no global lock). */
async function lockBoth(em: EntityManager, p: PaymentRow) {
  const account = await lockWallet(em, p.memberId);
  const row = await repo(em).createQueryBuilder('p').where('p.id = :id', { id: p.id }).setLock('pessimistic_write').getOneOrFail();
  return { account, row };
}

const leaseFrom = (deps: CheckoutDeps, now: Date) => new Date(now.getTime() + deps.kit.config.PAYMENT_LEASE_MS);

async function holdWallet(deps: CheckoutDeps, p: PaymentRow): Promise<Next> {
  const { kit } = deps;
  const outcome = await kit.uow(async (em) => {
    const { account, row } = await lockBoth(em, p);
    if (row.status !== PaymentStatus.PENDING || row.walletStep !== WalletStep.NONE) return null;
    const now = new Date();
    let failure: [string, string] | null = null;
    let split = null;
    let history: Awaited<ReturnType<typeof riskHistory>> | null = null;
    const refusal = account && moneyRefusal(account);
    if (!account) failure = ['WALLET_NOT_FOUND', 'the member has no wallet'];
    else if (refusal) failure = [String(refusal.extensions.reason), refusal.message];
    else {
      history = await riskHistory(kit, em, account, now);
      const hit = riskVerdict(row.walletAmount, history, riskRules(kit.config));
      if (hit) {
        await flagRisk(kit, em, row.memberId, row.orderRef, hit, row.id);
        failure = ['RISK_REJECTED', `${hit.rule}: ${hit.attempted} over ${hit.limit}`];
      } else {
        split = planDebit(row.walletAmount, account, SpendOrder.PRINCIPAL_FIRST);
        if (!split) failure = ['INSUFFICIENT_FUNDS', `balance ${account.principal + account.bonus} does not cover ${row.walletAmount}`];
      }
    }
    if (failure || !split || !account || !history) {
      const [reason, detail] = failure ?? ['INSUFFICIENT_FUNDS', ''];
      await repo(em).update({ id: row.id }, { status: PaymentStatus.RELEASING, failureReason: reason, failureDetail: detail, updatedAt: now, leaseUntil: leaseFrom(deps, now) });
      return SagaStep.RELEASE_STARTED;
    }
    await postJournal(kit, em, {
      kind: JournalKind.PAYMENT_HOLD,
      memberId: row.memberId,
      reference: row.id,
      postings: paymentHoldPostings(row.memberId, split),
      before: account,
      riskCounter: addSpend(history.today, history.spentToday, row.walletAmount),
    });
    await repo(em).update(
      { id: row.id },
      { walletStep: WalletStep.HELD, fromPrincipal: split.principal, fromBonus: split.bonus, riskDay: history.today, updatedAt: now, leaseUntil: leaseFrom(deps, now) },
    );
    return SagaStep.WALLET_HELD;
  });
  if (outcome) await deps.hooks.afterStep?.(outcome, p.id);
  return 'next';
}

async function startCapture(deps: CheckoutDeps, p: PaymentRow): Promise<Next> {
  const ok = await transition(
    deps,
    p,
    {
      status: PaymentStatus.PENDING,
      // Capture starts only while the holds are alive; an expired checkout is released instead.
      expiresAt: MoreThan(new Date()),
      pointsStep: In([PointsStep.NONE, PointsStep.HELD]),
      couponStep: In([CouponStep.NONE, CouponStep.LOCKED]),
      walletStep: p.walletAmount > 0 ? WalletStep.HELD : WalletStep.NONE,
    },
    { status: PaymentStatus.CAPTURING },
  );
  if (ok) await deps.hooks.afterStep?.(SagaStep.CAPTURE_STARTED, p.id);
  return 'next';
}

async function capturePoints(deps: CheckoutDeps, p: PaymentRow): Promise<Next> {
  const r = await deps.points.capture({ holdId: p.pointsHoldId! });
  if (r.kind === 'ok' && r.value.status === 'CAPTURED') {
    if (await transition(deps, p, { pointsStep: PointsStep.HELD }, { pointsStep: PointsStep.CAPTURED })) {
      await deps.hooks.afterStep?.(SagaStep.POINTS_CAPTURED, p.id);
    }
    return 'next';
  }
  if (r.kind === 'ok' && (r.value.status === 'RELEASED' || r.value.status === 'EXPIRED')) {
    await transition(deps, p, { status: PaymentStatus.CAPTURING, pointsStep: PointsStep.HELD }, { pointsStep: r.value.status === 'RELEASED' ? PointsStep.RELEASED : PointsStep.EXPIRED });
    return startRelease(deps, p, 'POINTS_HOLD_EXPIRED', `the points hold was ${r.value.status} before capture`, PaymentStatus.CAPTURING);
  }
  if (r.kind === 'refused') {
    // The hold cannot be captured (it resolved otherwise, or is unknown): nothing is captured yet,
    // points go first, so the whole checkout goes back.
    return startRelease(deps, p, 'POINTS_CAPTURE_REFUSED', `${r.code}: ${r.message}`, PaymentStatus.CAPTURING);
  }
  // No answer (or a reply still HELD): capture is idempotent, so it is simply tried again later.
  deps.kit.log.warn({ paymentId: p.id, reply: r }, 'points capture has no definite answer; recovery retries');
  return 'stop';
}

async function captureWallet(deps: CheckoutDeps, p: PaymentRow): Promise<Next> {
  const { kit } = deps;
  const done = await kit.uow(async (em) => {
    const { account, row } = await lockBoth(em, p);
    if (row.status !== PaymentStatus.CAPTURING || row.pointsStep === PointsStep.HELD || row.couponStep === CouponStep.LOCKED) return false;
    const now = new Date();
    if (row.walletStep === WalletStep.HELD) {
      if (!account) throw new Error(`payment ${row.id} holds balance of a wallet that does not exist`);
      await postJournal(kit, em, { kind: JournalKind.PAYMENT_CAPTURE, memberId: row.memberId, reference: row.id, postings: paymentCapturePostings(row.fromPrincipal + row.fromBonus), before: account });
    }
    await repo(em).update(
      { id: row.id },
      { walletStep: row.walletStep === WalletStep.HELD ? WalletStep.CAPTURED : row.walletStep, status: PaymentStatus.CAPTURED, updatedAt: now },
    );
    return true;
  });
  if (done) await deps.hooks.afterStep?.(SagaStep.CAPTURED, p.id);
  return 'next';
}

async function releaseWallet(deps: CheckoutDeps, p: PaymentRow): Promise<Next> {
  const { kit } = deps;
  const done = await kit.uow(async (em) => {
    const { account, row } = await lockBoth(em, p);
    if (row.status !== PaymentStatus.RELEASING || row.walletStep !== WalletStep.HELD) return false;
    if (!account) throw new Error(`payment ${row.id} holds balance of a wallet that does not exist`);
    // Back to the sub-balances it came from; allowed on a frozen wallet (money returning is never blocked).
    // No longer taken: out of the daily total it counted in (a hold from before the counter counted in none).
    await postJournal(kit, em, {
      kind: JournalKind.PAYMENT_RELEASE,
      memberId: row.memberId,
      reference: row.id,
      postings: paymentReleasePostings(row.memberId, { principal: row.fromPrincipal, bonus: row.fromBonus }),
      before: account,
      ...(row.riskDay ? { riskCounter: removeSpend(dailySpend(account), row.riskDay, row.fromPrincipal + row.fromBonus) } : {}),
    });
    const now = new Date();
    await repo(em).update({ id: row.id }, { walletStep: WalletStep.RELEASED, updatedAt: now, leaseUntil: leaseFrom(deps, now) });
    return true;
  });
  if (done) await deps.hooks.afterStep?.(SagaStep.WALLET_RELEASED, p.id);
  return 'next';
}

async function releasePoints(deps: CheckoutDeps, p: PaymentRow): Promise<Next> {
  const { log } = deps.kit;
  let holdId = p.pointsHoldId;
  if (p.pointsStep === PointsStep.REQUESTED) {
    // The hold's outcome is unknown: the same request returns the first hold if there is one.
    const h = await deps.points.hold(holdRequest(p));
    if (h.kind === 'refused') {
      await transition(deps, p, { pointsStep: PointsStep.REQUESTED }, { pointsStep: PointsStep.NOT_HELD });
      return 'next';
    }
    if (h.kind === 'unreachable') return giveUpOnPointsOrWait(deps, p, PointsStep.REQUESTED, h.message);
    await transition(deps, p, { pointsStep: PointsStep.REQUESTED }, { pointsStep: PointsStep.HELD, pointsHoldId: h.value.holdId });
    holdId = h.value.holdId;
  }
  const r = await deps.points.release({ holdId: holdId! });
  if (r.kind === 'ok') {
    if (r.value.status === 'CAPTURED') {
      // Cannot happen by construction (points are captured only after CAPTURING, which never turns back once they are).
      log.error({ paymentId: p.id, holdId }, 'points hold was captured but the payment is being released: needs an operator');
      return 'stop';
    }
    if (await transition(deps, p, { pointsStep: In([PointsStep.HELD, PointsStep.REQUESTED]) }, { pointsStep: r.value.status === 'EXPIRED' ? PointsStep.EXPIRED : PointsStep.RELEASED })) {
      await deps.hooks.afterStep?.(SagaStep.POINTS_RELEASED, p.id);
    }
    return 'next';
  }
  if (r.kind === 'refused') {
    log.warn({ paymentId: p.id, holdId, code: r.code }, 'points release refused: the hold had already resolved');
    await transition(deps, p, { pointsStep: In([PointsStep.HELD, PointsStep.REQUESTED]) }, { pointsStep: PointsStep.NOT_HELD });
    return 'next';
  }
  return giveUpOnPointsOrWait(deps, p, p.pointsStep, r.message);
}

/** The points service does not answer: once the hold's own TTL has passed it released itself. */
async function giveUpOnPointsOrWait(deps: CheckoutDeps, p: PaymentRow, from: PointsStep, message: string): Promise<Next> {
  if (pointsHoldGone(p)) {
    await transition(deps, p, { pointsStep: from }, { pointsStep: PointsStep.EXPIRED });
    return 'next';
  }
  deps.kit.log.warn({ paymentId: p.id, message }, 'points service unreachable while releasing; recovery retries');
  return 'stop';
}

async function finishRelease(deps: CheckoutDeps, p: PaymentRow): Promise<Next> {
  const ok = await transition(
    deps,
    p,
    {
      status: PaymentStatus.RELEASING,
      walletStep: In([WalletStep.NONE, WalletStep.RELEASED]),
      pointsStep: In([PointsStep.NONE, PointsStep.NOT_HELD, PointsStep.RELEASED, PointsStep.EXPIRED]),
      couponStep: In([CouponStep.NONE, CouponStep.NOT_LOCKED, CouponStep.RELEASED, CouponStep.RESTORED]),
    },
    { status: PaymentStatus.FAILED },
  );
  if (ok) await deps.hooks.afterStep?.(SagaStep.FAILED, p.id);
  return 'next';
}

/** A payment by id, or null. */
export function findPayment(deps: CheckoutDeps, id: string): Promise<PaymentRow | null> {
  return repo(deps).findOneBy({ id });
}

const couponRequest = (p: PaymentRow) => ({ couponCode: p.couponCode!, paymentId: p.id });

/**
 * Locks the coupon and re-splits the order with its discount: points stay as asked, the balance
 * pays what is left. Points and coupon together above the order fail the checkout.
 */
async function lockCoupon(deps: CheckoutDeps, p: PaymentRow): Promise<Next> {
  const r = await deps.coupons.lock({ memberId: p.memberId, couponCode: p.couponCode!, paymentId: p.id, orderAmount: p.amount });
  if (r.kind === 'ok') {
    if (r.value.status !== 'LOCKED') {
      await transition(deps, p, { couponStep: CouponStep.REQUESTED }, { couponStep: CouponStep.NOT_LOCKED, couponId: r.value.couponId });
      return startRelease(deps, p, 'COUPON_REFUSED', `the coupon is ${r.value.status}`);
    }
    const discount = Math.min(r.value.discount, p.amount);
    const walletAmount = p.amount - p.pointsValue - discount;
    if (await transition(deps, p, { couponStep: CouponStep.REQUESTED }, { couponStep: CouponStep.LOCKED, couponId: r.value.couponId, couponDiscount: discount, walletAmount: Math.max(0, walletAmount) })) {
      await deps.hooks.afterStep?.(SagaStep.COUPON_LOCKED, p.id);
    }
    if (walletAmount < 0) return startRelease(deps, p, 'COUPON_AND_POINTS_EXCEED_ORDER', `points ${p.pointsValue} + coupon ${discount} exceed the order ${p.amount}`);
    return 'next';
  }
  if (r.kind === 'refused') {
    await transition(deps, p, { couponStep: CouponStep.REQUESTED }, { couponStep: CouponStep.NOT_LOCKED });
    return startRelease(deps, p, 'COUPON_REFUSED', `${r.code}: ${r.message}`);
  }
  if (!r.delivered) await transition(deps, p, { couponStep: CouponStep.REQUESTED }, { couponStep: CouponStep.NOT_LOCKED });
  return startRelease(deps, p, 'COUPON_UNAVAILABLE', r.message);
}

async function redeemCoupon(deps: CheckoutDeps, p: PaymentRow): Promise<Next> {
  const r = await deps.coupons.redeem(couponRequest(p));
  if (r.kind === 'ok' && r.value.status === 'REDEEMED') {
    if (await transition(deps, p, { status: PaymentStatus.CAPTURING, couponStep: CouponStep.LOCKED }, { couponStep: CouponStep.REDEEMED })) {
      await deps.hooks.afterStep?.(SagaStep.COUPON_REDEEMED, p.id);
    }
    return 'next';
  }
  if (r.kind === 'refused' || (r.kind === 'ok' && r.value.status === 'ISSUED')) {
    // Nothing is captured yet (the coupon goes first): the whole checkout goes back.
    const detail = r.kind === 'refused' ? `${r.code}: ${r.message}` : 'the coupon is no longer locked';
    return startRelease(deps, p, 'COUPON_REDEEM_REFUSED', detail, PaymentStatus.CAPTURING);
  }
  deps.kit.log.warn({ paymentId: p.id, reply: r }, 'coupon redeem has no definite answer; recovery retries');
  return 'stop';
}

/**
 * Gives the coupon back: a lock of unknown outcome is first learnt by repeating it (idempotent per
 * coupon and payment), a lock is released, a redemption (capture turned back) is restored. The
 * coupon has no TTL of its own, so an unreachable marketing service is retried until it answers.
 */
async function releaseCoupon(deps: CheckoutDeps, p: PaymentRow): Promise<Next> {
  const { log } = deps.kit;
  let from: CouponStep = p.couponStep;
  if (from === CouponStep.REQUESTED) {
    const l = await deps.coupons.lock({ memberId: p.memberId, couponCode: p.couponCode!, paymentId: p.id, orderAmount: p.amount });
    if (l.kind === 'refused' || (l.kind === 'ok' && l.value.status === 'ISSUED')) {
      await transition(deps, p, { couponStep: CouponStep.REQUESTED }, { couponStep: CouponStep.NOT_LOCKED });
      return 'next';
    }
    if (l.kind === 'unreachable') {
      log.warn({ paymentId: p.id, message: l.message }, 'marketing unreachable while releasing a coupon; recovery retries');
      return 'stop';
    }
    await transition(deps, p, { couponStep: CouponStep.REQUESTED }, { couponStep: CouponStep.LOCKED, couponId: l.value.couponId });
    from = CouponStep.LOCKED;
  }
  const r = from === CouponStep.REDEEMED ? await deps.coupons.restore(couponRequest(p)) : await deps.coupons.release(couponRequest(p));
  if (r.kind === 'unreachable') {
    log.warn({ paymentId: p.id, message: r.message }, 'marketing unreachable while releasing a coupon; recovery retries');
    return 'stop';
  }
  if (r.kind === 'refused') log.warn({ paymentId: p.id, code: r.code }, 'coupon release refused: it had already resolved');
  const to = r.kind === 'ok' ? (from === CouponStep.REDEEMED ? CouponStep.RESTORED : CouponStep.RELEASED) : CouponStep.NOT_LOCKED;
  if (await transition(deps, p, { couponStep: from }, { couponStep: to })) await deps.hooks.afterStep?.(SagaStep.COUPON_RELEASED, p.id);
  return 'next';
}
