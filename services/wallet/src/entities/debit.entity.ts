import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/** Balance spent (interim: a plain debit until checkout payments land). */
export interface DebitRow {
  id: string;
  memberId: string;
  amount: number;
  fromPrincipal: number;
  fromBonus: number;
  reference: string;
  journalId: string;
  createdAt: Date;
}

export const DebitEntity = new EntitySchema<DebitRow>({
  name: 'Debit',
  tableName: 'wallet_debit',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    amount: { type: 'bigint', transformer: bigintColumn },
    fromPrincipal: { name: 'from_principal', type: 'bigint', transformer: bigintColumn },
    fromBonus: { name: 'from_bonus', type: 'bigint', transformer: bigintColumn },
    reference: { type: 'varchar', length: 100 },
    journalId: { name: 'journal_id', type: 'varchar', length: 26 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
  indices: [{ name: 'idx_debit_member', columns: ['memberId', 'createdAt'] }],
});
