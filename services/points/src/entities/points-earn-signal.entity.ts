import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/**
 * One earning as the velocity rules count it (granted or held for review), by the time it was
 * earned, with the device and IP the integration reported. The device and IP are cleared when the
 * member is erased.
 */
export interface PointsEarnSignalRow {
  awardKey: string;
  memberId: string;
  points: number;
  earnedAt: Date;
  deviceId: string | null;
  ip: string | null;
}

export const PointsEarnSignalEntity = new EntitySchema<PointsEarnSignalRow>({
  name: 'PointsEarnSignal',
  tableName: 'points_earn_signal',
  columns: {
    awardKey: { name: 'award_key', type: 'varchar', length: 128, primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    points: { type: 'bigint', transformer: bigintColumn },
    earnedAt: { name: 'earned_at', type: 'datetime', precision: 3 },
    deviceId: { name: 'device_id', type: 'varchar', length: 64, nullable: true },
    ip: { type: 'varchar', length: 45, nullable: true },
  },
  indices: [
    { name: 'idx_points_signal_member', columns: ['memberId', 'earnedAt'] },
    { name: 'idx_points_signal_device', columns: ['deviceId', 'earnedAt'] },
    { name: 'idx_points_signal_ip', columns: ['ip', 'earnedAt'] },
  ],
});
