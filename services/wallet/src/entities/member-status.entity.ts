import { EntitySchema } from 'typeorm';

/**
 * This service's projection of each member's status (the member service's ACTIVE, FROZEN,
 * BLACKLISTED, ERASED), fed by `member.status_changed` and `member.erased`. No row means ACTIVE.
 * `asOf` is when the status became true: a late, older change never overwrites a newer one. Read
 * with the member's account lock (one statement), so money moves judge the status they lock.
 */
export interface MemberStatusRow {
  memberId: string;
  status: string;
  asOf: Date;
}

export const MemberStatusEntity = new EntitySchema<MemberStatusRow>({
  name: 'WalletMemberStatus',
  tableName: 'wallet_member_status',
  columns: {
    memberId: { name: 'member_id', type: 'varchar', length: 26, primary: true },
    status: { type: 'varchar', length: 16 },
    asOf: { name: 'as_of', type: 'datetime', precision: 3 },
  },
});
