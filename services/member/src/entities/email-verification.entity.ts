import { EntitySchema } from 'typeorm';

/**
 * An email verification link sent to a member: only a keyed hash of its token is stored, bound to
 * the address it went to. The rows are also the send log the request throttle counts.
 */
export interface EmailVerificationRow {
  id: string;
  memberId: string;
  tokenHash: string;
  /** Blind index of the address the link was sent to; a changed address makes the token stale. */
  emailIndex: string;
  createdAt: Date;
  expiresAt: Date;
  consumedAt: Date | null;
}

export const EmailVerificationEntity = new EntitySchema<EmailVerificationRow>({
  name: 'EmailVerification',
  tableName: 'email_verification',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    tokenHash: { name: 'token_hash', type: 'char', length: 64 },
    emailIndex: { name: 'email_index', type: 'char', length: 64 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    expiresAt: { name: 'expires_at', type: 'datetime', precision: 3 },
    consumedAt: { name: 'consumed_at', type: 'datetime', precision: 3, nullable: true },
  },
  uniques: [{ name: 'uq_email_verification_token', columns: ['tokenHash'] }],
  indices: [{ name: 'idx_email_verification_member', columns: ['memberId', 'createdAt'] }],
});
