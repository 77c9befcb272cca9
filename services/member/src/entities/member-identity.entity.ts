import { EntitySchema } from 'typeorm';

/**
 * A social identity (WeChat, Alipay) bound to a member. The ids are personal data: they are found
 * by keyed blind indexes and kept encrypted under the member's own data key (erasure deletes the rows).
 */
export interface MemberIdentityRow {
  id: string;
  /** WECHAT or ALIPAY. */
  provider: string;
  /** Blind index of (provider, openId): how a social login finds the member. */
  openIdIndex: string;
  openIdEnc: string;
  /** Blind index of (provider family, unionId), when the provider gave one: the same person's other apps. */
  unionIdIndex: string | null;
  unionIdEnc: string | null;
  memberId: string;
  boundAt: Date;
  /** The member themself (their id) or the staff user or client who bound it. */
  boundBy: string;
}

export const MemberIdentityEntity = new EntitySchema<MemberIdentityRow>({
  name: 'MemberIdentity',
  tableName: 'member_identity',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    provider: { type: 'varchar', length: 16 },
    openIdIndex: { name: 'open_id_index', type: 'char', length: 64 },
    openIdEnc: { name: 'open_id_enc', type: 'varchar', length: 512 },
    unionIdIndex: { name: 'union_id_index', type: 'char', length: 64, nullable: true },
    unionIdEnc: { name: 'union_id_enc', type: 'varchar', length: 512, nullable: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    boundAt: { name: 'bound_at', type: 'datetime', precision: 3 },
    boundBy: { name: 'bound_by', type: 'varchar', length: 64 },
  },
  // One member per (provider, openId); unionId lookups per family; a member's identities.
  uniques: [{ name: 'uq_identity_provider_open_id', columns: ['provider', 'openIdIndex'] }],
  indices: [
    { name: 'idx_identity_union', columns: ['unionIdIndex'] },
    { name: 'idx_identity_member', columns: ['memberId', 'id'] },
  ],
});
