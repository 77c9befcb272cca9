import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

export const TopUpStatus = { COMPLETED: 'COMPLETED', REFUNDED: 'REFUNDED' } as const;
export type TopUpStatus = (typeof TopUpStatus)[keyof typeof TopUpStatus];

/** Money a payment provider confirmed, loaded into a wallet with its bonus. */
export interface TopUpRow {
  id: string;
  memberId: string;
  /** Principal paid in, fen. */
  amount: number;
  /** All the bonus granted with it (tier, first top-up and birthday-month extras), fen. */
  bonus: number;
  /** The part of `bonus` that was the birthday-month extra (at most one top-up per member and birthday month has it). */
  birthdayBonus: number;
  /** The payment provider's reference: one top-up per payment. */
  paymentRef: string;
  channel: string;
  storeId: string | null;
  status: TopUpStatus;
  journalId: string;
  createdAt: Date;
}

export const TopUpEntity = new EntitySchema<TopUpRow>({
  name: 'TopUp',
  tableName: 'wallet_top_up',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    amount: { type: 'bigint', transformer: bigintColumn },
    bonus: { type: 'bigint', transformer: bigintColumn },
    birthdayBonus: { name: 'birthday_bonus', type: 'bigint', default: 0, transformer: bigintColumn },
    paymentRef: { name: 'payment_ref', type: 'varchar', length: 100, unique: true },
    channel: { type: 'varchar', length: 16 },
    storeId: { name: 'store_id', type: 'varchar', length: 64, nullable: true },
    status: { type: 'varchar', length: 16 },
    journalId: { name: 'journal_id', type: 'varchar', length: 26 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
  indices: [{ name: 'idx_top_up_member', columns: ['memberId', 'createdAt'] }],
});
