import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/** One (partial) refund of a captured payment's balance part. */
export interface PaymentRefundRow {
  id: string;
  paymentId: string;
  memberId: string;
  amount: number;
  toPrincipal: number;
  toBonus: number;
  journalId: string;
  createdAt: Date;
}

export const PaymentRefundEntity = new EntitySchema<PaymentRefundRow>({
  name: 'PaymentRefund',
  tableName: 'wallet_payment_refund',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    paymentId: { name: 'payment_id', type: 'varchar', length: 26 },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    amount: { type: 'bigint', transformer: bigintColumn },
    toPrincipal: { name: 'to_principal', type: 'bigint', transformer: bigintColumn },
    toBonus: { name: 'to_bonus', type: 'bigint', transformer: bigintColumn },
    journalId: { name: 'journal_id', type: 'varchar', length: 26 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
  indices: [{ name: 'idx_payment_refund_payment', columns: ['paymentId', 'createdAt'] }],
});
