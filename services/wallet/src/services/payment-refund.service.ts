import type { EntityManager } from 'typeorm';
import { badField, conflict, idempotent, newId, notFound, type ServiceKit } from '@membergraph/platform';
import { pointsToGiveBack, splitPaymentRefund } from '../domain/checkout';
import { JournalKind, paymentRefundPostings } from '../domain/ledger';
import { CouponStep, PaymentEntity, PaymentStatus, PointsStep, type PaymentRow } from '../entities/payment.entity';
import { PaymentRefundEntity, RefundPointsStep, type PaymentRefundRow } from '../entities/payment-refund.entity';
import type { CheckoutDeps } from './checkout.service';
import { postJournal } from './ledger.service';
import { lockWallet } from './wallet-account.service';
import { checkAmount, checkText } from './top-up.service';

export interface RefundPaymentInput {
  paymentId: string;
  amount: number;
  idempotencyKey: string;
}

/**
 * Refunds part or all of a captured payment's balance part, once per idempotency key: the money
 * goes back to principal and bonus in the proportion it was taken (a full refund returns exactly
 * that split); never more than is left. The points it used are owed back in the same proportion
 * (all of them on the full refund) and a redeemed coupon is owed a restore on the full refund: both
 * are recorded here as pending, in the refund's transaction, and carried out by {@link settleRefund}
 * after commit (recovery repeats them until the other service answers). Allowed on a frozen wallet.
 */
export async function refundPayment(kit: ServiceKit, em: EntityManager, input: RefundPaymentInput): Promise<PaymentRefundRow> {
  checkText('paymentId', input.paymentId, 26);
  checkAmount('amount', input.amount);
  checkText('idempotencyKey', input.idempotencyKey, 128);
  const facts = { paymentId: input.paymentId, amount: input.amount };
  const id = await idempotent(em, { operation: 'refundPayment', key: input.idempotencyKey, input: facts }, () => refundOnce(kit, em, facts));
  return em.getRepository(PaymentRefundEntity).findOneByOrFail({ id });
}

async function refundOnce(kit: ServiceKit, em: EntityManager, input: { paymentId: string; amount: number }): Promise<string> {
  const found = await em.getRepository(PaymentEntity).findOneBy({ id: input.paymentId });
  if (!found) throw notFound('Payment');
  const account = await lockWallet(em, found.memberId);
  if (!account) throw new Error(`payment ${found.id} has no wallet`);
  // Read again under the member's lock (the fixed order: member, then payment): concurrent refunds have committed.
  const p: PaymentRow = await em.getRepository(PaymentEntity).createQueryBuilder('p').where('p.id = :id', { id: input.paymentId }).setLock('pessimistic_write').getOneOrFail();
  if (p.status !== PaymentStatus.CAPTURED) throw conflict('Only a captured payment can be refunded', { field: 'paymentId', status: p.status });
  const left = p.fromPrincipal + p.fromBonus - p.refundedPrincipal - p.refundedBonus;
  const split = splitPaymentRefund({ principal: p.fromPrincipal, bonus: p.fromBonus }, { principal: p.refundedPrincipal, bonus: p.refundedBonus }, input.amount);
  if (!split) throw badField('amount', `amount exceeds what is left to refund (${left} fen)`, { left });
  const paid = p.fromPrincipal + p.fromBonus;
  const refundedBefore = p.refundedPrincipal + p.refundedBonus;
  const full = refundedBefore + input.amount === paid;
  const canGiveBack = p.pointsStep === PointsStep.CAPTURED && p.pointsHoldId !== null;
  const points = canGiveBack ? pointsToGiveBack(p.pointsUsed, paid, refundedBefore, refundedBefore + input.amount, p.refundedPoints) : 0;
  const refund: PaymentRefundRow = {
    id: newId(),
    paymentId: p.id,
    memberId: p.memberId,
    amount: input.amount,
    toPrincipal: split.principal,
    toBonus: split.bonus,
    journalId: newId(),
    points,
    pointsStep: points > 0 ? RefundPointsStep.PENDING : RefundPointsStep.NONE,
    pointsRestored: 0,
    pointsExpired: 0,
    createdAt: new Date(),
  };
  await em.getRepository(PaymentRefundEntity).insert(refund);
  await em.getRepository(PaymentEntity).update(
    { id: p.id },
    {
      refundedPrincipal: p.refundedPrincipal + split.principal,
      refundedBonus: p.refundedBonus + split.bonus,
      refundedPoints: p.refundedPoints + points,
      ...(full && p.couponStep === CouponStep.REDEEMED ? { couponStep: CouponStep.RESTORE_PENDING } : {}),
      updatedAt: refund.createdAt,
    },
  );
  await postJournal(kit, em, {
    id: refund.journalId,
    kind: JournalKind.PAYMENT_REFUND,
    memberId: p.memberId,
    reference: refund.id,
    postings: paymentRefundPostings(p.memberId, split),
    before: account,
  });
  return refund.id;
}

/**
 * Carries out what a refund left pending, outside any transaction: the points give-back
 * (`PointsRefundRpc.RefundHold`, idempotent per hold and refund id) and, after a full refund, the
 * coupon restore. No answer leaves them pending for recovery; a refusal is recorded and logged for
 * an operator (the balance refund itself stands). Returns the refund as it now stands.
 */
export async function settleRefund(deps: CheckoutDeps, refundId: string): Promise<PaymentRefundRow> {
  const { kit } = deps;
  const refunds = kit.ds.getRepository(PaymentRefundEntity);
  const refund = await refunds.findOneByOrFail({ id: refundId });
  if (refund.pointsStep === RefundPointsStep.PENDING) {
    const payment = await kit.ds.getRepository(PaymentEntity).findOneByOrFail({ id: refund.paymentId });
    const r = await deps.points.refundHold({ holdId: payment.pointsHoldId!, refundId: refund.id, amount: refund.points });
    if (r.kind === 'ok') {
      await refunds.update({ id: refund.id, pointsStep: RefundPointsStep.PENDING }, { pointsStep: RefundPointsStep.DONE, pointsRestored: r.value.restored, pointsExpired: r.value.expired });
    } else if (r.kind === 'refused') {
      kit.log.error({ refundId, paymentId: payment.id, code: r.code, message: r.message }, 'points give-back refused: needs an operator');
      await refunds.update({ id: refund.id, pointsStep: RefundPointsStep.PENDING }, { pointsStep: RefundPointsStep.FAILED });
    } else {
      kit.log.warn({ refundId, message: r.message }, 'points give-back has no answer; recovery retries');
    }
  }
  await restoreCoupon(deps, refund.paymentId);
  return refunds.findOneByOrFail({ id: refundId });
}

/** Restores the coupon of a fully refunded payment when that is pending. */
export async function restoreCoupon(deps: CheckoutDeps, paymentId: string): Promise<void> {
  const { kit } = deps;
  const payments = kit.ds.getRepository(PaymentEntity);
  const p = await payments.findOneByOrFail({ id: paymentId });
  if (p.couponStep !== CouponStep.RESTORE_PENDING) return;
  const r = await deps.coupons.restore({ couponCode: p.couponCode!, paymentId: p.id });
  if (r.kind === 'unreachable') {
    kit.log.warn({ paymentId, message: r.message }, 'coupon restore has no answer; recovery retries');
    return;
  }
  if (r.kind === 'refused') kit.log.error({ paymentId, code: r.code, message: r.message }, 'coupon restore refused: needs an operator');
  await payments.update({ id: p.id, couponStep: CouponStep.RESTORE_PENDING }, { couponStep: r.kind === 'ok' ? CouponStep.RESTORED : CouponStep.NOT_LOCKED, updatedAt: new Date() });
}
