import type { EntityManager } from 'typeorm';
import { badField, conflict, idempotent, newId, notFound, type ServiceKit } from '@membergraph/platform';
import { splitPaymentRefund } from '../domain/checkout';
import { JournalKind, paymentRefundPostings } from '../domain/ledger';
import { PaymentEntity, PaymentStatus, type PaymentRow } from '../entities/payment.entity';
import { PaymentRefundEntity, type PaymentRefundRow } from '../entities/payment-refund.entity';
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
 * that split); never more than is left. Points are not given back (the points contract has no
 * refund of a captured hold). Allowed on a frozen wallet.
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
  const refund: PaymentRefundRow = {
    id: newId(),
    paymentId: p.id,
    memberId: p.memberId,
    amount: input.amount,
    toPrincipal: split.principal,
    toBonus: split.bonus,
    journalId: newId(),
    createdAt: new Date(),
  };
  await em.getRepository(PaymentRefundEntity).insert(refund);
  await em.getRepository(PaymentEntity).update(
    { id: p.id },
    { refundedPrincipal: p.refundedPrincipal + split.principal, refundedBonus: p.refundedBonus + split.bonus, updatedAt: refund.createdAt },
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
