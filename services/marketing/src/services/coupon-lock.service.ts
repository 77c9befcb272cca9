import type { EntityManager } from 'typeorm';
import { conflict, newId, notFound, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData, type CouponLockReply, type CouponPaymentRequest, type LockCouponRequest } from '@membergraph/contracts';
import type { MarketingConfig } from '../config';
import { CouponEntity, type CouponRow } from '../entities/coupon.entity';
import { CouponUseEntity, type CouponUseRow } from '../entities/coupon-use.entity';
import { CouponStatus, effectiveStatus } from '../domain/coupon';
import { CouponUseStatus, ReleaseReason, STEP_RESULT, STEP_USE_STATUS, decideCouponStep, type CouponStep } from '../domain/coupon-lock';
import { couponDiscount, fixedAmount } from '../domain/discount';

type Kit = ServiceKit<MarketingConfig>;

/** Codes are printed upper case; a code typed in lower case or with spaces still finds its coupon. */
export const normalizeCouponCode = (code: string) => code.trim().toUpperCase();

const STEP_EVENT = {
  LOCK: EventType.CouponLocked,
  REDEEM: EventType.CouponRedeemed,
  RELEASE: EventType.CouponReleased,
  RESTORE: EventType.CouponRestored,
} as const satisfies Record<CouponStep, string>;

/** The coupon by code under a row lock: every step on one coupon runs one at a time. */
function lockCouponRow(em: EntityManager, code: string): Promise<CouponRow | null> {
  return em.getRepository(CouponEntity).createQueryBuilder('c').where('c.code = :code', { code }).setLock('pessimistic_write').getOne();
}

function useOf(em: EntityManager, couponId: string, paymentId: string): Promise<CouponUseRow | null> {
  return em.getRepository(CouponUseEntity).findOneBy({ couponId, paymentId });
}

/** The reply of `step`, the same on the first call and on every repeat. */
function replyOf(coupon: CouponRow, step: CouponStep, use: CouponUseRow): CouponLockReply {
  return { couponId: coupon.id, couponCode: coupon.code, status: STEP_RESULT[step], discount: use.discount };
}

/** CONFLICT on `couponCode`, with the status the caller would see (an ISSUED coupon past expiry is EXPIRED). */
const stepConflict = (reason: string, coupon: CouponRow, now: Date) => conflict(reason, { field: 'couponCode', status: effectiveStatus(coupon, now) });

function announce(kit: Kit, em: EntityManager, step: CouponStep, coupon: CouponRow, paymentId: string) {
  const type = STEP_EVENT[step];
  return kit.publish(em, type, coupon.memberId, checkedData(type, { couponId: coupon.id, memberId: coupon.memberId, paymentId }));
}

/**
 * Locks a member's coupon for a payment and answers the discount it gives on the order.
 * NOT_FOUND when the member holds no coupon with that code (someone else's code is as good as
 * absent); CONFLICT (`couponCode`) when it is locked by another payment, redeemed, expired or void,
 * or when this payment locked it before for another order amount. A repeat returns the first reply.
 */
export async function lockCoupon(kit: Kit, em: EntityManager, req: LockCouponRequest, now = new Date()): Promise<CouponLockReply> {
  const code = normalizeCouponCode(req.couponCode);
  const coupon = await lockCouponRow(em, code);
  if (!coupon || coupon.memberId !== req.memberId) throw notFound(`Coupon ${code}`);
  const use = await useOf(em, coupon.id, req.paymentId);
  if (use && use.orderAmount !== req.orderAmount) {
    throw stepConflict(`Coupon was locked by this payment for an order of ${use.orderAmount} fen, not ${req.orderAmount}`, coupon, now);
  }
  const decision = decideCouponStep('LOCK', coupon, use?.status ?? null, now, kit.config.LOCK_TTL_SECONDS);
  if (decision.kind === 'replay') return replyOf(coupon, 'LOCK', use!);
  if (decision.kind === 'conflict') throw stepConflict(decision.reason, coupon, now);
  if (decision.kind === 'takeover') await releaseLapsedLocks(kit, em, [coupon], now);

  const row: CouponUseRow = {
    couponId: coupon.id,
    paymentId: req.paymentId,
    memberId: coupon.memberId,
    orderAmount: req.orderAmount,
    discount: couponDiscount(fixedAmount(coupon.amount), req.orderAmount),
    status: CouponUseStatus.LOCKED,
    lockedAt: now,
    redeemedAt: null,
    releasedAt: null,
    releaseReason: null,
    restoredAt: null,
  };
  await em.getRepository(CouponUseEntity).insert(row);
  await em.getRepository(CouponEntity).update({ id: coupon.id }, { status: CouponStatus.LOCKED, paymentId: req.paymentId, lockedAt: now, redeemedAt: null });
  await announce(kit, em, 'LOCK', coupon, req.paymentId);
  return replyOf(coupon, 'LOCK', row);
}

/** REDEEM: LOCKED by the payment -> REDEEMED. A lapsed lock is a CONFLICT: the sweeper gives it back. */
export const redeemCoupon = (kit: Kit, em: EntityManager, req: CouponPaymentRequest, now = new Date()) => settleCoupon(kit, em, 'REDEEM', req, now);
/** RELEASE: LOCKED by the payment -> ISSUED. */
export const releaseCoupon = (kit: Kit, em: EntityManager, req: CouponPaymentRequest, now = new Date()) => settleCoupon(kit, em, 'RELEASE', req, now);
/** RESTORE: REDEEMED by the payment -> ISSUED (the payment was fully refunded). */
export const restoreCoupon = (kit: Kit, em: EntityManager, req: CouponPaymentRequest, now = new Date()) => settleCoupon(kit, em, 'RESTORE', req, now);

/** What a coupon must look like for `step` to apply to it for `paymentId`. */
const HELD_AS = { REDEEM: CouponStatus.LOCKED, RELEASE: CouponStatus.LOCKED, RESTORE: CouponStatus.REDEEMED } as const;

async function settleCoupon(kit: Kit, em: EntityManager, step: Exclude<CouponStep, 'LOCK'>, req: CouponPaymentRequest, now: Date): Promise<CouponLockReply> {
  const code = normalizeCouponCode(req.couponCode);
  const coupon = await lockCouponRow(em, code);
  if (!coupon) throw notFound(`Coupon ${code}`);
  const use = await useOf(em, coupon.id, req.paymentId);
  const decision = decideCouponStep(step, coupon, use?.status ?? null, now, kit.config.LOCK_TTL_SECONDS);
  if (decision.kind === 'replay') return replyOf(coupon, step, use!);
  if (decision.kind !== 'apply') throw stepConflict(decision.kind === 'conflict' ? decision.reason : `cannot ${step}`, coupon, now);
  // The use row and the coupon change together under this lock; a mismatch is a broken invariant.
  if (coupon.status !== HELD_AS[step] || coupon.paymentId !== req.paymentId) {
    throw new Error(`coupon ${coupon.id} is ${coupon.status} for ${coupon.paymentId ?? 'no payment'} but payment ${req.paymentId}'s use is ${use!.status}`);
  }
  const coupons = em.getRepository(CouponEntity);
  const uses = em.getRepository(CouponUseEntity);
  const key = { couponId: coupon.id, paymentId: req.paymentId };
  if (step === 'REDEEM') {
    await coupons.update({ id: coupon.id }, { status: CouponStatus.REDEEMED, redeemedAt: now });
    await uses.update(key, { status: STEP_USE_STATUS.REDEEM, redeemedAt: now });
  } else {
    await coupons.update({ id: coupon.id }, { status: CouponStatus.ISSUED, paymentId: null, lockedAt: null, redeemedAt: null });
    await uses.update(key, step === 'RELEASE' ? { status: STEP_USE_STATUS.RELEASE, releasedAt: now, releaseReason: ReleaseReason.PAYMENT } : { status: STEP_USE_STATUS.RESTORE, restoredAt: now });
  }
  await announce(kit, em, step, coupon, req.paymentId);
  return replyOf(coupon, step, use!);
}

/** Gives back lapsed locks of coupons already locked by the caller: ISSUED again, the use RELEASED (EXPIRED), announced. */
async function releaseLapsedLocks(kit: Kit, em: EntityManager, coupons: Array<Pick<CouponRow, 'id' | 'memberId' | 'paymentId'>>, now: Date): Promise<void> {
  if (!coupons.length) return;
  const ids = coupons.map((c) => c.id);
  await em.query(
    `UPDATE coupon_use u JOIN coupon c ON c.id = u.coupon_id AND c.payment_id = u.payment_id
        SET u.status = ?, u.released_at = ?, u.release_reason = ?
      WHERE c.id IN (?) AND u.status = ?`,
    [CouponUseStatus.RELEASED, now, ReleaseReason.EXPIRED, ids, CouponUseStatus.LOCKED],
  );
  await em.query(`UPDATE coupon SET status = ?, payment_id = NULL, locked_at = NULL WHERE id IN (?)`, [CouponStatus.ISSUED, ids]);
  await kit.publishMany(
    em,
    coupons.map((c) => ({
      type: EventType.CouponReleased,
      subject: c.memberId,
      data: checkedData(EventType.CouponReleased, { couponId: c.id, memberId: c.memberId, paymentId: c.paymentId! }),
    })),
  );
}

export interface CouponLockExpiryRun {
  runId: string;
  asOf: Date;
  locksReleased: number;
}

/**
 * Releases every LOCKED coupon whose lock was taken LOCK_TTL_SECONDS or more before `asOf`, in
 * batches of LOCK_SWEEP_BATCH, each its own transaction. Rows are re-read under their locks, so it
 * is safe to re-run and to run on several replicas (or beside a checkout settling the coupon).
 */
export async function runCouponLockExpiry(kit: Kit, asOf: Date): Promise<CouponLockExpiryRun> {
  const run: CouponLockExpiryRun = { runId: newId(), asOf, locksReleased: 0 };
  const lockedBefore = new Date(asOf.getTime() - kit.config.LOCK_TTL_SECONDS * 1000);
  const batch = kit.config.LOCK_SWEEP_BATCH;
  for (;;) {
    const released = await kit.uow(async (em) => {
      // Rows a checkout is settling right now are skipped: the next sweep sees them as they end up.
      const lapsed: Array<{ id: string; member_id: string; payment_id: string }> = await em.query(
        `SELECT id, member_id, payment_id FROM coupon WHERE status = ? AND locked_at <= ? ORDER BY locked_at, id LIMIT ? FOR UPDATE SKIP LOCKED`,
        [CouponStatus.LOCKED, lockedBefore, batch],
      );
      await releaseLapsedLocks(kit, em, lapsed.map((r) => ({ id: r.id, memberId: r.member_id, paymentId: r.payment_id })), new Date());
      return lapsed.length;
    });
    run.locksReleased += released;
    if (released < batch) break;
  }
  if (run.locksReleased) kit.log.info({ ...run }, 'coupon locks expired');
  return run;
}
