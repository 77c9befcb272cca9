import { EntitySchema } from 'typeorm';

/** A `points.expiring_soon` reminder already sent for a lot at a threshold (30 or 7 days): once each. */
export interface PointsExpiryReminderRow {
  lotId: string;
  thresholdDays: number;
  memberId: string;
  runId: string;
  sentAt: Date;
}

export const PointsExpiryReminderEntity = new EntitySchema<PointsExpiryReminderRow>({
  name: 'PointsExpiryReminder',
  tableName: 'points_expiry_reminder',
  columns: {
    lotId: { name: 'lot_id', type: 'varchar', length: 26, primary: true },
    thresholdDays: { name: 'threshold_days', type: 'int', primary: true },
    memberId: { name: 'member_id', type: 'varchar', length: 26 },
    runId: { name: 'run_id', type: 'varchar', length: 26 },
    sentAt: { name: 'sent_at', type: 'datetime', precision: 3 },
  },
  indices: [{ name: 'idx_points_expiry_reminder_run', columns: ['runId', 'memberId'] }],
});
