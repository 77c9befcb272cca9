import { EntitySchema } from 'typeorm';

/**
 * One consent decision: append-only, so the history (who, when, under which policy version) is
 * kept; the newest row per (member, purpose, channel) is the member's current consent.
 */
export interface ConsentRow {
  id: string;
  memberId: string;
  /** MARKETING, ANALYTICS, PERSONALIZATION or THIRD_PARTY_SHARING. */
  purpose: string;
  /** SMS, EMAIL, PUSH or WECHAT. */
  channel: string;
  granted: boolean;
  /** The privacy policy version the member agreed to (or refused). */
  policyVersion: string;
  recordedAt: Date;
  /** The member id (own decision) or the staff user who recorded it. */
  recordedBy: string;
}

export const ConsentEntity = new EntitySchema<ConsentRow>({
  name: 'Consent',
  tableName: 'member_consent',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    purpose: { type: 'varchar', length: 32 },
    channel: { type: 'varchar', length: 16 },
    granted: { type: 'boolean' },
    policyVersion: { name: 'policy_version', type: 'varchar', length: 32 },
    recordedAt: { name: 'recorded_at', type: 'datetime', precision: 3 },
    recordedBy: { name: 'recorded_by', type: 'varchar', length: 64 },
  },
  indices: [{ name: 'idx_consent_member', columns: ['memberId', 'id'] }],
});
