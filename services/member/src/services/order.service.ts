import type { EntityManager } from 'typeorm';
import { AppError, ErrorCode, audit, badField, conflict, newId, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { MemberConfig } from '../config';
import { OrderEntity, type OrderRow } from '../entities/order.entity';
import { RefundEntity, type RefundRow } from '../entities/refund.entity';
import { MAX_ORDER_AMOUNT, linesProblem, refundable, sameOrder, type OrderLine } from '../domain/order';
import { growthFor, growthReversal } from '../domain/tiers';
import { lockMember, upgradeIfEarned } from './tier.service';

type Kit = ServiceKit<MemberConfig>;

export interface RecordOrderInput {
  source: string;
  externalId: string;
  memberId: string;
  amount: number;
  storeId?: string | null;
  channel: string;
  completedAt?: Date | null;
  lines?: Array<{ sku: string; category?: string | null; quantity: number; amount: number }> | null;
}

const SOURCE = /^[A-Za-z0-9_.:-]{1,64}$/;
const validAmount = (n: number) => Number.isSafeInteger(n) && n >= 0 && n <= MAX_ORDER_AMOUNT;

function validate(input: RecordOrderInput) {
  if (!SOURCE.test(input.source)) throw badField('source', 'source must be 1-64 letters, digits or _.:-');
  if (input.externalId.length < 1 || input.externalId.length > 128) throw badField('externalId', 'externalId must be 1-128 characters');
  if (!validAmount(input.amount)) throw badField('amount', 'amount must be a whole number of fen between 0 and 10,000,000,000');
  if (input.storeId !== undefined && input.storeId !== null && (input.storeId.length < 1 || input.storeId.length > 64)) {
    throw badField('storeId', 'storeId must be 1-64 characters');
  }
  if (input.completedAt && input.completedAt.getTime() > Date.now() + 5 * 60_000) {
    throw badField('completedAt', 'completedAt cannot be in the future');
  }
  const lines = linesOf(input);
  const problem = lines && linesProblem(lines);
  if (problem) throw badField(problem[0], problem[1]);
}

const linesOf = (input: RecordOrderInput): OrderLine[] | null =>
  input.lines ? input.lines.map((l) => ({ sku: l.sku, category: l.category ?? null, quantity: l.quantity, amount: l.amount })) : null;

/** An order as recorded, and whether this call recorded it (false: a replay of the first). */
export interface RecordedOrder {
  order: OrderRow;
  created: boolean;
}

/**
 * Records an order once per (source, externalId): a retry with the same facts returns the first
 * order, a reuse with different facts is CONFLICT. Announced as `order.completed`. The member row
 * is locked so the order's growth and a threshold it crosses upgrade the tier in this transaction.
 */
export async function recordOrder(kit: Kit, em: EntityManager, actor: string, input: RecordOrderInput): Promise<RecordedOrder> {
  validate(input);
  const first = await findRecordedOrder(em, input);
  if (first) return { order: first, created: false };

  // FROZEN and BLACKLISTED members' purchases are still recorded (points decide about earning).
  const member = await lockMember(em, input.memberId);
  if (!member || member.status === 'ERASED') throw new AppError(ErrorCode.NOT_FOUND, 'Member not found', { field: 'memberId' });
  // Concurrent duplicates queue on the member lock: the later ones find the first here.
  const raced = await findRecordedOrder(em, input);
  if (raced) return { order: raced, created: false };

  const now = new Date();
  const row: OrderRow = {
    id: newId(),
    source: input.source,
    externalId: input.externalId,
    ...factsOf(input),
    refundedAmount: 0,
    growth: growthFor(input.amount, kit.config.GROWTH_PER_YUAN),
    completedAt: input.completedAt ?? now,
    recordedAt: now,
    recordedBy: actor,
  };
  // A concurrent request with the same key makes this insert fail with 1062; the resolver then
  // answers from findRecordedOrder in a fresh transaction.
  await em.getRepository(OrderEntity).insert(row);
  await audit(em, actor, 'order.record', row.id, { source: row.source, externalId: row.externalId });
  await kit.publish(
    em,
    EventType.OrderCompleted,
    row.memberId,
    checkedData(EventType.OrderCompleted, {
      orderId: row.id,
      memberId: row.memberId,
      source: row.source,
      externalId: row.externalId,
      amount: row.amount,
      storeId: row.storeId,
      channel: row.channel as 'STORE',
      completedAt: row.completedAt.toISOString(),
      ...(row.lines ? { lines: row.lines } : {}),
    }),
  );
  // Back-filled orders count from their completion time; one a few minutes ahead (allowed clock skew) still counts now.
  await upgradeIfEarned(kit, em, member, new Date(Math.max(now.getTime(), row.completedAt.getTime())));
  return { order: row, created: true };
}

const factsOf = (input: RecordOrderInput) => ({
  memberId: input.memberId,
  amount: input.amount,
  storeId: input.storeId ?? null,
  channel: input.channel,
  lines: linesOf(input),
});

/** The order already recorded under (source, externalId), or CONFLICT if its facts differ from `input`. */
export async function findRecordedOrder(em: EntityManager, input: RecordOrderInput): Promise<OrderRow | null> {
  const existing = await em.getRepository(OrderEntity).findOneBy({ source: input.source, externalId: input.externalId });
  if (!existing) return null;
  if (!sameOrder(existing, factsOf(input))) {
    throw conflict(`order ${input.source}/${input.externalId} was already recorded with different details`, { field: 'externalId' });
  }
  return existing;
}

export interface RecordRefundInput {
  source: string;
  externalOrderId: string;
  refundId: string;
  amount: number;
}

function validateRefund(input: RecordRefundInput) {
  if (!SOURCE.test(input.source)) throw badField('source', 'source must be 1-64 letters, digits or _.:-');
  if (input.externalOrderId.length < 1 || input.externalOrderId.length > 128) throw badField('externalOrderId', 'externalOrderId must be 1-128 characters');
  if (input.refundId.length < 1 || input.refundId.length > 128) throw badField('refundId', 'refundId must be 1-128 characters');
  if (!validAmount(input.amount) || input.amount === 0) throw badField('amount', 'amount must be a whole number of fen above 0');
}

/** The refund already recorded under (source, refundId), or CONFLICT if it was for another order or amount. */
export async function findRecordedRefund(em: EntityManager, input: RecordRefundInput): Promise<RefundRow | null> {
  const existing = await em.getRepository(RefundEntity).findOneBy({ source: input.source, refundId: input.refundId });
  if (!existing) return null;
  if (existing.externalOrderId !== input.externalOrderId || existing.amount !== input.amount) {
    throw conflict(`refund ${input.source}/${input.refundId} was already recorded with different details`, { field: 'refundId' });
  }
  return existing;
}

/**
 * Records a full or partial refund once per (source, refundId), never beyond what is left of the
 * order: the order row is locked first, so concurrent refunds of one order are counted one by one.
 * Takes back the growth the refunded part earned and announces `order.refunded`. Tiers do not move
 * down here: only the periodic evaluation downgrades.
 */
export async function recordRefund(kit: Kit, em: EntityManager, actor: string, input: RecordRefundInput): Promise<RefundRow> {
  validateRefund(input);
  const order = await em
    .getRepository(OrderEntity)
    .createQueryBuilder('o')
    .where('o.source = :source AND o.externalId = :externalId', { source: input.source, externalId: input.externalOrderId })
    .setLock('pessimistic_write')
    .getOne();
  // Checked after the lock: a concurrent retry of this refund waited on the order and now sees it.
  const first = await findRecordedRefund(em, input);
  if (first) return first;
  if (!order) throw new AppError(ErrorCode.NOT_FOUND, `order ${input.source}/${input.externalOrderId} not found`, { field: 'externalOrderId' });
  const left = refundable(order);
  if (input.amount > left) throw badField('amount', `only ${left} fen of this order are left to refund`, { refundable: left });

  const growthReversed = Math.min(order.growth, growthReversal(order.amount, order.refundedAmount, input.amount, kit.config.GROWTH_PER_YUAN));
  const row: RefundRow = {
    id: newId(),
    source: input.source,
    refundId: input.refundId,
    orderId: order.id,
    externalOrderId: order.externalId,
    memberId: order.memberId,
    amount: input.amount,
    growthReversed,
    refundedAt: new Date(),
    recordedBy: actor,
  };
  // Same (source, refundId) for another order racing in: 1062 here, settled by the resolver.
  await em.getRepository(RefundEntity).insert(row);
  const refundedTotal = order.refundedAmount + input.amount;
  await em.getRepository(OrderEntity).update({ id: order.id }, { refundedAmount: refundedTotal, growth: order.growth - growthReversed });
  await audit(em, actor, 'order.refund', order.id, { refundId: row.refundId, amount: row.amount });
  await kit.publish(
    em,
    EventType.OrderRefunded,
    order.memberId,
    checkedData(EventType.OrderRefunded, {
      refundId: row.id,
      orderId: order.id,
      memberId: order.memberId,
      source: order.source,
      externalOrderId: order.externalId,
      amount: row.amount,
      refundedTotal,
      orderAmount: order.amount,
      refundedAt: row.refundedAt.toISOString(),
    }),
  );
  return row;
}
