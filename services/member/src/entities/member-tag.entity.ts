import { EntitySchema } from 'typeorm';

/** A tag on a member: MANUAL (staff) or RULE (computed by analytics); the same name may exist once per source. */
export interface MemberTagRow {
  memberId: string;
  /** MANUAL or RULE. */
  source: string;
  name: string;
  taggedAt: Date;
  /** The staff user (MANUAL) or the producing service (RULE). */
  taggedBy: string;
}

export const MemberTagEntity = new EntitySchema<MemberTagRow>({
  name: 'MemberTag',
  tableName: 'member_tag',
  columns: {
    memberId: { name: 'member_id', type: 'varchar', length: 26, primary: true },
    source: { type: 'varchar', length: 10, primary: true },
    name: { type: 'varchar', length: 64, primary: true },
    taggedAt: { name: 'tagged_at', type: 'datetime', precision: 3 },
    taggedBy: { name: 'tagged_by', type: 'varchar', length: 64 },
  },
  // members(filter: {tag}) and the tags summary.
  indices: [{ name: 'idx_member_tag_name', columns: ['name', 'memberId'] }],
});
