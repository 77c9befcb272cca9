import type { EntityManager } from 'typeorm';
import { audit, badField, conflict, newId, notFound, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import { MemberEntity } from '../entities/member.entity';
import { OrderEntity, type OrderRow } from '../entities/order.entity';
import { MAX_ORDER_AMOUNT, sameOrder } from '../domain/order';

export interface RecordOrderInput {
  source: string;
  externalId: string;
  memberId: string;
  amount: number;
  storeId?: string | null;
  channel: string;
  completedAt?: Date | null;
}

function validate(input: RecordOrderInput) {
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(input.source)) throw badField('source', 'source must be 1-64 letters, digits or _.:-');
  if (input.externalId.length < 1 || input.externalId.length > 128) throw badField('externalId', 'externalId must be 1-128 characters');
  if (!Number.isSafeInteger(input.amount) || input.amount < 0 || input.amount > MAX_ORDER_AMOUNT) {
    throw badField('amount', 'amount must be a whole number of fen between 0 and 10,000,000,000');
  }
  if (input.storeId !== undefined && input.storeId !== null && (input.storeId.length < 1 || input.storeId.length > 64)) {
    throw badField('storeId', 'storeId must be 1-64 characters');
  }
  if (input.completedAt && input.completedAt.getTime() > Date.now() + 5 * 60_000) {
    throw badField('completedAt', 'completedAt cannot be in the future');
  }
}

/**
 * Records an order once per (source, externalId): a retry with the same facts returns the first
 * order, a reuse with different facts is CONFLICT. Announced as `order.completed`.
 */
export async function recordOrder(kit: ServiceKit, em: EntityManager, actor: string, input: RecordOrderInput): Promise<OrderRow> {
  validate(input);
  const first = await findRecordedOrder(em, input);
  if (first) return first;

  const member = await em.getRepository(MemberEntity).findOneBy({ id: input.memberId });
  if (!member || member.status === 'ERASED') throw notFound('Member');

  const row: OrderRow = {
    id: newId(),
    source: input.source,
    externalId: input.externalId,
    ...factsOf(input),
    completedAt: input.completedAt ?? new Date(),
    recordedAt: new Date(),
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
    }),
  );
  return row;
}

const factsOf = (input: RecordOrderInput) => ({
  memberId: input.memberId,
  amount: input.amount,
  storeId: input.storeId ?? null,
  channel: input.channel,
});

/** The order already recorded under (source, externalId), or CONFLICT if its facts differ from `input`. */
export async function findRecordedOrder(em: EntityManager, input: RecordOrderInput): Promise<OrderRow | null> {
  const existing = await em.getRepository(OrderEntity).findOneBy({ source: input.source, externalId: input.externalId });
  if (!existing) return null;
  if (!sameOrder(existing, factsOf(input))) {
    throw conflict(`order ${input.source}/${input.externalId} was already recorded with different details`);
  }
  return existing;
}
