import { EntitySchema } from 'typeorm';

/**
 * A one-time code: only its keyed hash is stored. Rows also serve as the send log the
 * per-phone and per-IP throttles count.
 */
export interface OtpCodeRow {
  id: string;
  phoneIndex: string;
  purpose: string;
  codeHash: string;
  /** Verification tries so far, counted in the database before comparing. */
  attempts: number;
  expiresAt: Date;
  consumedAt: Date | null;
  createdAt: Date;
  /** Keyed hash of the requesting IP (for the per-IP throttle), if known. */
  ipIndex: string | null;
  /** Whether a message actually went out (LOGIN/PAYMENT codes for unknown phones are not sent). */
  sent: boolean;
}

export const OtpCodeEntity = new EntitySchema<OtpCodeRow>({
  name: 'OtpCode',
  tableName: 'otp_code',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    phoneIndex: { name: 'phone_index', type: 'char', length: 64 },
    purpose: { type: 'varchar', length: 16 },
    codeHash: { name: 'code_hash', type: 'char', length: 64 },
    attempts: { type: 'int', default: 0 },
    expiresAt: { name: 'expires_at', type: 'datetime', precision: 3 },
    consumedAt: { name: 'consumed_at', type: 'datetime', precision: 3, nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    ipIndex: { name: 'ip_index', type: 'char', length: 64, nullable: true },
    sent: { type: 'boolean' },
  },
  indices: [
    { name: 'idx_otp_phone_purpose', columns: ['phoneIndex', 'purpose', 'id'] },
    { name: 'idx_otp_phone_created', columns: ['phoneIndex', 'createdAt'] },
    { name: 'idx_otp_ip_created', columns: ['ipIndex', 'createdAt'] },
  ],
});
