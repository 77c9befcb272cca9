import { audit, newId, type ServiceKit, businessDay } from '@membergraph/platform';
import type { MemberConfig } from '../config';
import { birthdayNotice } from '../domain/birthday';
import { announceBirthdays, birthdayPage } from '../services/birthday.service';

const BATCH = 500;

export interface BirthdayJobSummary {
  asOf: Date;
  /** The business day run (tenant time zone). */
  businessDate: string;
  /** The birthdays announced: BIRTHDAY_NOTICE_DAYS after it. */
  birthdayDate: string;
  year: number;
  notified: number;
  alreadyNotified: number;
}

/**
 * The daily birthday job for the business day of `asOf` (tenant time zone): `member.birthday_upcoming`
 * for every member whose birthday is BIRTHDAY_NOTICE_DAYS later (28 February also announces
 * 29 February birthdays in years without one), once per member and year. Found through the plain
 * `birth_md` column, so nobody is decrypted; one unit of work per page, so a crash keeps what was
 * announced and a re-run of the day announces only the rest. Erased members have no `birth_md`.
 */
export async function runBirthdayJob(kit: ServiceKit<MemberConfig>, actor: string, asOf: Date): Promise<BirthdayJobSummary> {
  const notice = birthdayNotice(businessDay(asOf, kit.config.TENANT_TIME_ZONE), kit.config.BIRTHDAY_NOTICE_DAYS);
  const summary: BirthdayJobSummary = { asOf, businessDate: notice.businessDate, birthdayDate: notice.birthdayDate, year: notice.year, notified: 0, alreadyNotified: 0 };
  const runId = newId();
  let after = '';
  for (;;) {
    const page = await birthdayPage(kit.ds.manager, notice, after, BATCH);
    const fresh = page.filter((m) => !m.notified).map((m) => m.id);
    const notified = await kit.uow((em) => announceBirthdays(kit, em, notice, runId, fresh));
    summary.notified += notified;
    // Members announced before, or by a concurrent run between our read and our claim.
    summary.alreadyNotified += page.length - notified;
    if (page.length < BATCH) break;
    after = page.at(-1)!.id;
  }
  await kit.uow((em) => audit(em, actor, 'birthday.job_run', notice.businessDate, { ...summary, asOf: asOf.toISOString() }));
  kit.log.info({ ...summary }, 'birthday job done');
  return summary;
}
