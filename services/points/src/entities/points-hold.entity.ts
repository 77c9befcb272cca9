import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { HoldStatus } from '../domain/holds';

/**
 * Points reserved for a checkout. The HOLD entry's draws say which lots gave them (their
 * `remaining` went down at once); CAPTURE spends exactly those, RELEASE (or expiry) gives them back
 * to the same lots. `status` moves once, from HELD.
 */
export interface PointsHoldRow {
  id: string;
  memberId: string;
  amount: number;
  /** What the hold is for, e.g. the wallet's payment id. */
  reference: string;
  status: HoldStatus;
  expiresAt: Date;
  /** Who made it: `rpc` (the checkout saga over NATS) or the GraphQL caller's id. */
  createdBy: string;
  createdAt: Date;
  /** The HOLD entry (its draws are the reserved lots). */
  holdEntryId: string;
  /** The CAPTURE or RELEASE entry, once resolved. */
  resolveEntryId: string | null;
  resolvedAt: Date | null;
}

export const PointsHoldEntity = new EntitySchema<PointsHoldRow>({
  name: 'PointsHold',
  tableName: 'points_hold',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    amount: { type: 'bigint', transformer: bigintColumn },
    reference: { type: 'varchar', length: 128 },
    status: { type: 'varchar', length: 16 },
    expiresAt: { name: 'expires_at', type: 'datetime', precision: 3 },
    createdBy: { name: 'created_by', type: 'varchar', length: 64 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    holdEntryId: { name: 'hold_entry_id', type: 'varchar', length: 26 },
    resolveEntryId: { name: 'resolve_entry_id', type: 'varchar', length: 26, nullable: true },
    resolvedAt: { name: 'resolved_at', type: 'datetime', precision: 3, nullable: true },
  },
  indices: [
    // The sweeper finds open holds past their expiry.
    { name: 'idx_points_hold_due', columns: ['status', 'expiresAt'] },
    { name: 'idx_points_hold_member', columns: ['memberId', 'status'] },
  ],
});
