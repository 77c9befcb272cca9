import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/** The one refund of a top-up: principal back to the payer, its bonus taken back. */
export interface TopUpRefundRow {
  id: string;
  topUpId: string;
  memberId: string;
  principalReturned: number;
  bonusTakenBack: number;
  /** Bonus already spent, kept out of the principal returned. */
  bonusFromPrincipal: number;
  journalId: string;
  createdAt: Date;
}

export const TopUpRefundEntity = new EntitySchema<TopUpRefundRow>({
  name: 'TopUpRefund',
  tableName: 'wallet_top_up_refund',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    topUpId: { name: 'top_up_id', type: 'varchar', length: 26, unique: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    principalReturned: { name: 'principal_returned', type: 'bigint', transformer: bigintColumn },
    bonusTakenBack: { name: 'bonus_taken_back', type: 'bigint', transformer: bigintColumn },
    bonusFromPrincipal: { name: 'bonus_from_principal', type: 'bigint', transformer: bigintColumn },
    journalId: { name: 'journal_id', type: 'varchar', length: 26 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
});
