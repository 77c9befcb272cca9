import { EntitySchema } from 'typeorm';

/**
 * This service's projection of each member's tier, fed by member events (`member.registered`
 * now, `member.tier_changed` later). `asOf` is when the tier became true: an older event arriving
 * late never overwrites a newer tier.
 */
export interface MemberTierRow {
  memberId: string;
  tier: string;
  asOf: Date;
}

export const MemberTierEntity = new EntitySchema<MemberTierRow>({
  name: 'MemberTier',
  tableName: 'points_member_tier',
  columns: {
    memberId: { name: 'member_id', type: 'varchar', length: 26, primary: true },
    tier: { type: 'varchar', length: 16 },
    asOf: { name: 'as_of', type: 'datetime', precision: 3 },
  },
});
