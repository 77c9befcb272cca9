import type { EntityManager } from 'typeorm';
import { isDuplicateKey, type ServiceKit } from '@membergraph/platform';
import type { OrderRefunded } from '@membergraph/contracts';
import type { PointsConfig } from '../config';
import { PointsAccountEntity } from '../entities/points-account.entity';
import { PointsEntryEntity, type PointsEntryRow } from '../entities/points-entry.entity';
import { PointsRefundEntity, type PointsRefundRow } from '../entities/points-refund.entity';
import { PointsPendingEntity, type PointsPendingRow } from '../entities/points-pending.entity';
import { EntryType, OtherReason, applyEntry, idempotencyKeys } from '../domain/ledger';
import { planReversal, refundDue } from '../domain/refunds';
import { appendEntry, lockAccount, newEntry, recordDraws, spendableLots } from './points-ledger.service';

/**
 * `order.refunded`: records the refund once per refund id, then takes back its share of what the
 * order earned. A refund whose order has not earned yet (it arrived first) stays PARKED and is
 * applied by the order's earning ({@link applyParkedRefunds}). A repeated refund id changes nothing.
 */
export async function recordRefund(kit: ServiceKit<PointsConfig>, em: EntityManager, refund: OrderRefunded, at = new Date()): Promise<PointsRefundRow | null> {
  // The member's account lock first: the order's earning takes it too and applies parked refunds
  // under it, so either we see its committed earning or it sees our parked row, never neither.
  await lockAccount(em, refund.memberId);
  const row: PointsRefundRow = {
    refundId: refund.refundId,
    orderId: refund.orderId,
    memberId: refund.memberId,
    amount: refund.amount,
    refundedTotal: refund.refundedTotal,
    orderAmount: refund.orderAmount,
    refundedAt: new Date(refund.refundedAt),
    status: 'PARKED',
    due: 0,
    reversed: 0,
    debt: 0,
    forgiven: 0,
    entryId: null,
    receivedAt: at,
    appliedAt: null,
  };
  try {
    await em.getRepository(PointsRefundEntity).insert(row);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    kit.log.info({ refundId: refund.refundId }, 'refund already recorded; ignored');
    return null;
  }
  const earning = await orderEarning(em, refund.orderId);
  if (!earning) {
    kit.log.info({ refundId: refund.refundId, orderId: refund.orderId }, 'refund before its order earned: parked');
    return row;
  }
  return applyRefund(kit, em, row, earning, at);
}

/**
 * What an order earned: its points still PENDING in the return window (refunds cancel them), or its
 * EARN entry (refunds reverse it). `earned` is what the order earned before any refund: the
 * pending amount when it went through the window (the entry then holds only what refunds left).
 */
type OrderEarning = { kind: 'pending'; pending: PointsPendingRow; earned: number } | { kind: 'earned'; entry: PointsEntryRow; earned: number };

async function orderEarning(em: EntityManager, orderId: string): Promise<OrderEarning | null> {
  const pending = await em.getRepository(PointsPendingEntity).findOneBy({ orderId });
  if (pending && pending.status !== 'RELEASED') return { kind: 'pending', pending, earned: pending.amount };
  const entry = await em.getRepository(PointsEntryEntity).findOneBy({ idempotencyKey: idempotencyKeys.order(orderId) });
  return entry ? { kind: 'earned', entry, earned: pending?.amount ?? entry.amount } : null;
}

/** Applies the refunds parked for `orderId`, in the order of their cumulative totals; call right after the order earned. */
export async function applyParkedRefunds(kit: ServiceKit<PointsConfig>, em: EntityManager, orderId: string, at = new Date()): Promise<number> {
  const parked = await em.getRepository(PointsRefundEntity).find({ where: { orderId, status: 'PARKED' }, order: { refundedTotal: 'ASC', refundId: 'ASC' } });
  if (!parked.length) return 0;
  const earning = await orderEarning(em, orderId);
  if (!earning) return 0;
  for (const row of parked) await applyRefund(kit, em, row, earning, at);
  kit.log.info({ orderId, refunds: parked.length }, 'parked refunds applied');
  return parked.length;
}

async function applyRefund(kit: ServiceKit<PointsConfig>, em: EntityManager, row: PointsRefundRow, basis: OrderEarning, at: Date): Promise<PointsRefundRow> {
  if (basis.kind === 'pending') return cancelPending(kit, em, row, basis.pending, at);
  const earning = basis.entry;
  const memberId = earning.memberId;
  if (row.memberId !== memberId) kit.log.warn({ refundId: row.refundId, refundMember: row.memberId, orderMember: memberId }, 'refund names another member than its order; the order\'s member is used');
  // The account lock serialises this with every other change of the member's points, including
  // another refund of the same order: `alreadyDue` below cannot change under us.
  const before = await lockAccount(em, memberId);
  const [{ already }] = (await em.query("SELECT COALESCE(SUM(due), 0) AS already FROM points_refund WHERE order_id = ? AND status = 'APPLIED'", [row.orderId])) as [{ already: string }];
  const due = refundDue({ earned: basis.earned, refundedTotal: row.refundedTotal, orderAmount: row.orderAmount, alreadyDue: Number(already) });
  const lots = await spendableLots(em, memberId);
  const orderLots = new Set(lots.filter((l) => l.entryId === earning.id).map((l) => l.id));
  const plan = planReversal(due, orderLots, lots, kit.config.REFUND_POLICY);
  const reversed = due - plan.forgiven;
  let entryId: string | null = null;
  if (reversed > 0) {
    const after = applyEntry(before, EntryType.REVERSE, -reversed);
    const entry = newEntry({
      memberId,
      type: EntryType.REVERSE,
      amount: -reversed,
      balanceAfter: after.balance,
      reason: OtherReason.REFUND,
      reference: row.orderId,
      idempotencyKey: idempotencyKeys.refund(row.refundId),
      createdAt: at,
    });
    if (!(await appendEntry(em, entry))) throw new Error(`refund ${row.refundId} is in the ledger but was not applied`);
    await recordDraws(em, memberId, plan.draws.map((d) => ({ ...d, entryId: entry.id })));
    await em.getRepository(PointsAccountEntity).update({ memberId }, { balance: after.balance, updatedAt: at });
    entryId = entry.id;
  }
  if (plan.debt || plan.forgiven) kit.log.info({ refundId: row.refundId, memberId, due, debt: plan.debt, forgiven: plan.forgiven }, 'refund took back points already spent');
  const applied = { status: 'APPLIED' as const, due, reversed, debt: plan.debt, forgiven: plan.forgiven, entryId, appliedAt: at };
  await em.getRepository(PointsRefundEntity).update({ refundId: row.refundId }, applied);
  return { ...row, ...applied };
}

/**
 * A refund inside the order's return window: its share of the pending points is cancelled before
 * they were ever spendable (no ledger entry; the refund row records `due`, nothing reversed). The
 * same cumulative rule as reversals, so cancellations and later reversals add up to the refunded share.
 */
async function cancelPending(kit: ServiceKit<PointsConfig>, em: EntityManager, row: PointsRefundRow, pending: PointsPendingRow, at: Date): Promise<PointsRefundRow> {
  await lockAccount(em, pending.memberId);
  const fresh = await em.getRepository(PointsPendingEntity).createQueryBuilder('p').where('p.order_id = :id', { id: pending.orderId }).setLock('pessimistic_write').getOneOrFail();
  const due = refundDue({ earned: fresh.amount, refundedTotal: row.refundedTotal, orderAmount: row.orderAmount, alreadyDue: fresh.cancelled });
  if (due > 0) await em.getRepository(PointsPendingEntity).update({ orderId: fresh.orderId }, { cancelled: fresh.cancelled + due });
  kit.log.info({ refundId: row.refundId, orderId: row.orderId, cancelled: due }, 'refund inside the return window: pending points cancelled');
  const applied = { status: 'APPLIED' as const, due, reversed: 0, debt: 0, forgiven: 0, entryId: null, appliedAt: at };
  await em.getRepository(PointsRefundEntity).update({ refundId: row.refundId }, applied);
  return { ...row, ...applied };
}
