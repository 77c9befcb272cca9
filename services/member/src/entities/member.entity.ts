import { EntitySchema } from 'typeorm';

/** A member. PII columns hold AES-256-GCM ciphertext under the member's own data key. */
export interface MemberRow {
  id: string;
  /** Null once erased, so the phone can register again as a new member. */
  phoneIndex: string | null;
  /** Null once erased (as every PII column). */
  phoneEnc: string | null;
  nameEnc: string | null;
  /** Blind index of the normalised name (domain/search.ts): exact-match search without the clear name. */
  nameIndex: string | null;
  /** Blind index of the normalised email, when the member gave one. */
  emailIndex: string | null;
  emailEnc: string | null;
  /** YYYY-MM-DD, encrypted. */
  birthdayEnc: string | null;
  /**
   * Month and day of the birthday as MMDD, in clear and indexed, so the daily birthday job finds
   * whose birthday is coming without decrypting every member (README, Privacy: the trade-off).
   * Written with the birthday (PiiVault seal/reseal); null without one and once erased.
   */
  birthMd: string | null;
  /** FEMALE, MALE, OTHER or UNDISCLOSED, encrypted (null when not given). */
  genderEnc: string | null;
  /** The member's data key wrapped by the master key; destroying it (null) erases the PII. */
  dataKey: string | null;
  channel: string;
  status: string;
  tierCode: string;
  /** When the tier last changed (null: never since registration). */
  tierChangedAt: Date | null;
  /** When the member last moved up the ladder; the downgrade protection period counts from here. */
  tierUpgradedAt: Date | null;
  registeredAt: Date;
  registeredBy: string | null;
  /** When name, email and birthday were first all present (member.profile_completed went out then). */
  profileCompletedAt: Date | null;
  /**
   * As of when the profile we hold is current: set by profile updates, and by imports from the
   * row's `updatedAt`; null means unchanged since registration. Imports never overwrite a profile
   * newer than their row (domain/import.ts).
   */
  profileUpdatedAt: Date | null;
  /** When the member was erased (status ERASED). */
  erasedAt: Date | null;
  /** `changedAt` of the newest RULE tag set applied (older sets arriving late are ignored). */
  ruleTagsAt: Date | null;
  /** When the member proved the current email address theirs (verification link); cleared when the address changes. */
  emailVerifiedAt: Date | null;
  /** The referral code given at registration, as typed (marketing resolves it to an inviter). */
  referralCode: string | null;
}

export const MemberEntity = new EntitySchema<MemberRow>({
  name: 'Member',
  tableName: 'member',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    phoneIndex: { name: 'phone_index', type: 'char', length: 64, unique: true, nullable: true },
    phoneEnc: { name: 'phone_enc', type: 'varchar', length: 255, nullable: true },
    nameEnc: { name: 'name_enc', type: 'varchar', length: 1024, nullable: true },
    nameIndex: { name: 'name_index', type: 'char', length: 64, nullable: true },
    emailIndex: { name: 'email_index', type: 'char', length: 64, nullable: true, unique: true },
    emailEnc: { name: 'email_enc', type: 'varchar', length: 1024, nullable: true },
    birthdayEnc: { name: 'birthday_enc', type: 'varchar', length: 255, nullable: true },
    birthMd: { name: 'birth_md', type: 'char', length: 4, nullable: true },
    genderEnc: { name: 'gender_enc', type: 'varchar', length: 255, nullable: true },
    dataKey: { name: 'data_key', type: 'varchar', length: 255, nullable: true },
    channel: { type: 'varchar', length: 20 },
    status: { type: 'varchar', length: 20, default: 'ACTIVE' },
    tierCode: { name: 'tier_code', type: 'varchar', length: 20 },
    tierChangedAt: { name: 'tier_changed_at', type: 'datetime', precision: 3, nullable: true },
    tierUpgradedAt: { name: 'tier_upgraded_at', type: 'datetime', precision: 3, nullable: true },
    registeredAt: { name: 'registered_at', type: 'datetime', precision: 3 },
    registeredBy: { name: 'registered_by', type: 'varchar', length: 64, nullable: true },
    profileCompletedAt: { name: 'profile_completed_at', type: 'datetime', precision: 3, nullable: true },
    profileUpdatedAt: { name: 'profile_updated_at', type: 'datetime', precision: 3, nullable: true },
    erasedAt: { name: 'erased_at', type: 'datetime', precision: 3, nullable: true },
    ruleTagsAt: { name: 'rule_tags_at', type: 'datetime', precision: 3, nullable: true },
    emailVerifiedAt: { name: 'email_verified_at', type: 'datetime', precision: 3, nullable: true },
    referralCode: { name: 'referral_code', type: 'varchar', length: 32, nullable: true },
  },
  // The members(filter) paths: newest first (id DESC) within a tier, a status, a name or a date range.
  indices: [
    { name: 'idx_member_tier', columns: ['tierCode', 'id'] },
    { name: 'idx_member_status', columns: ['status', 'id'] },
    { name: 'idx_member_name', columns: ['nameIndex'] },
    { name: 'idx_member_registered', columns: ['registeredAt'] },
    // The daily birthday job: members whose birthday falls on a given day.
    { name: 'idx_member_birth_md', columns: ['birthMd', 'id'] },
  ],
});
