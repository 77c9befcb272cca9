import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/**
 * One refused payment: the risk rule it broke. Append-only; counted per member over the
 * auto-freeze window (under the member's lock, so exactly one hit freezes).
 */
export interface RiskHitRow {
  id: string;
  memberId: string;
  rule: string;
  /** The rule's cap (fen, or payments for VELOCITY). */
  limit: number;
  attempted: number;
  orderRef: string;
  /** The payment, when the rule fired at the balance hold; null when refused before it was recorded. */
  paymentId: string | null;
  createdAt: Date;
}

export const RiskHitEntity = new EntitySchema<RiskHitRow>({
  name: 'RiskHit',
  tableName: 'wallet_risk_hit',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    rule: { type: 'varchar', length: 32 },
    limit: { name: 'limit_value', type: 'bigint', transformer: bigintColumn },
    attempted: { type: 'bigint', transformer: bigintColumn },
    orderRef: { name: 'order_ref', type: 'varchar', length: 100 },
    paymentId: { name: 'payment_id', type: 'varchar', length: 26, nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
  indices: [{ name: 'idx_risk_hit_member', columns: ['memberId', 'createdAt'] }],
});
