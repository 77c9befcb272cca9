import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { MemberFacts } from '../domain/facts';

/** The read model of one member's facts, folded from member and order events. */
export interface MemberFactRow extends MemberFacts {
  updatedAt: Date;
}

export const MemberFactEntity = new EntitySchema<MemberFactRow>({
  name: 'MemberFact',
  tableName: 'member_fact',
  columns: {
    memberId: { name: 'member_id', type: 'varchar', length: 26, primary: true },
    channel: { type: 'varchar', length: 20, nullable: true },
    registeredAt: { name: 'registered_at', type: 'datetime', precision: 3, nullable: true },
    orderCount: { name: 'order_count', type: 'int', unsigned: true, default: 0 },
    totalSpend: { name: 'total_spend', type: 'bigint', default: 0, transformer: bigintColumn },
    firstOrderAt: { name: 'first_order_at', type: 'datetime', precision: 3, nullable: true },
    lastOrderAt: { name: 'last_order_at', type: 'datetime', precision: 3, nullable: true },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
  },
});
