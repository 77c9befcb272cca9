import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/** A member's daily check-in: at most one per tenant business day, with the streak it continued. */
export interface PointsCheckInRow {
  memberId: string;
  /** YYYY-MM-DD in TENANT_TIME_ZONE. */
  day: string;
  /** Consecutive days checked in, this one included. */
  streak: number;
  /** What the ladder offered for this streak day, and what the daily caps let through. */
  requested: number;
  granted: number;
  createdAt: Date;
}

export const PointsCheckInEntity = new EntitySchema<PointsCheckInRow>({
  name: 'PointsCheckIn',
  tableName: 'points_check_in',
  columns: {
    memberId: { name: 'member_id', type: 'varchar', length: 26, primary: true },
    day: { type: 'char', length: 10, primary: true },
    streak: { type: 'int' },
    requested: { type: 'bigint', transformer: bigintColumn },
    granted: { type: 'bigint', transformer: bigintColumn },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
});
