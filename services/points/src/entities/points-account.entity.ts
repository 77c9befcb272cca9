import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/**
 * A member's points account: a cached sum of the ledger, locked FOR UPDATE by every change so
 * entries for one member are written one at a time (balance_after stays a true running total).
 */
export interface PointsAccountRow {
  memberId: string;
  /** Sum of all entries' amounts, points on hold included; may go negative (refund of spent points: debt). */
  balance: number;
  /** Sum of all entries' `held`: what open holds reserve. Available = balance - held. */
  held: number;
  /** Sum of EARN entries only: what the member was ever given. */
  lifetimeEarned: number;
  updatedAt: Date;
  /** When `member.erased` anonymised the account (totals kept); null otherwise. */
  erasedAt?: Date | null;
}

export const PointsAccountEntity = new EntitySchema<PointsAccountRow>({
  name: 'PointsAccount',
  tableName: 'points_account',
  columns: {
    memberId: { name: 'member_id', type: 'varchar', length: 26, primary: true },
    balance: { type: 'bigint', default: 0, transformer: bigintColumn },
    lifetimeEarned: { name: 'lifetime_earned', type: 'bigint', default: 0, transformer: bigintColumn },
    held: { type: 'bigint', default: 0, transformer: bigintColumn },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
    erasedAt: { name: 'erased_at', type: 'datetime', precision: 3, nullable: true },
  },
});
