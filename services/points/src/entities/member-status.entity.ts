import { EntitySchema } from 'typeorm';

/**
 * This service's projection of each member's status, fed by `member.status_changed`. No row means
 * ACTIVE. `asOf` is when the status became true: a late, older change never overwrites a newer one.
 */
export interface MemberStatusRow {
  memberId: string;
  status: string;
  asOf: Date;
}

export const MemberStatusEntity = new EntitySchema<MemberStatusRow>({
  name: 'MemberStatus',
  tableName: 'points_member_status',
  columns: {
    memberId: { name: 'member_id', type: 'varchar', length: 26, primary: true },
    status: { type: 'varchar', length: 16 },
    asOf: { name: 'as_of', type: 'datetime', precision: 3 },
  },
});
