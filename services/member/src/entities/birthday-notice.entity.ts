import { EntitySchema } from 'typeorm';

/**
 * One row per member and year whose `member.birthday_upcoming` went out: claimed in the same
 * transaction as the event, so re-running a day (or running it on two replicas) announces nobody
 * twice. Deleted on erasure (with the business date it tells the birthday).
 */
export interface BirthdayNoticeRow {
  memberId: string;
  /** Year of the birthday announced. */
  year: number;
  /** The business day (tenant time zone, YYYY-MM-DD) of the run that announced it. */
  businessDate: string;
  /** The run that claimed it (its events are published from the rows it claimed). */
  runId: string;
  notifiedAt: Date;
}

export const BirthdayNoticeEntity = new EntitySchema<BirthdayNoticeRow>({
  name: 'BirthdayNotice',
  tableName: 'member_birthday_notice',
  columns: {
    memberId: { name: 'member_id', type: 'varchar', length: 26, primary: true },
    year: { type: 'smallint', unsigned: true, primary: true },
    businessDate: { name: 'business_date', type: 'char', length: 10 },
    runId: { name: 'run_id', type: 'varchar', length: 26 },
    notifiedAt: { name: 'notified_at', type: 'datetime', precision: 3 },
  },
});
