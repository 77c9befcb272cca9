import { EntitySchema } from 'typeorm';

/** A member. PII columns hold AES-256-GCM ciphertext under the member's own data key. */
export interface MemberRow {
  id: string;
  phoneIndex: string;
  phoneEnc: string;
  nameEnc: string;
  /** Blind index of the normalised email, when the member gave one. */
  emailIndex: string | null;
  emailEnc: string | null;
  /** YYYY-MM-DD, encrypted. */
  birthdayEnc: string | null;
  /** The member's data key wrapped by the master key; destroying it erases the PII. */
  dataKey: string;
  channel: string;
  status: string;
  tierCode: string;
  registeredAt: Date;
  registeredBy: string | null;
}

export const MemberEntity = new EntitySchema<MemberRow>({
  name: 'Member',
  tableName: 'member',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    phoneIndex: { name: 'phone_index', type: 'char', length: 64, unique: true },
    phoneEnc: { name: 'phone_enc', type: 'varchar', length: 255 },
    nameEnc: { name: 'name_enc', type: 'varchar', length: 1024 },
    emailIndex: { name: 'email_index', type: 'char', length: 64, nullable: true, unique: true },
    emailEnc: { name: 'email_enc', type: 'varchar', length: 1024, nullable: true },
    birthdayEnc: { name: 'birthday_enc', type: 'varchar', length: 255, nullable: true },
    dataKey: { name: 'data_key', type: 'varchar', length: 255 },
    channel: { type: 'varchar', length: 20 },
    status: { type: 'varchar', length: 20, default: 'ACTIVE' },
    tierCode: { name: 'tier_code', type: 'varchar', length: 20 },
    registeredAt: { name: 'registered_at', type: 'datetime', precision: 3 },
    registeredBy: { name: 'registered_by', type: 'varchar', length: 64, nullable: true },
  },
});
