import type { EntityManager } from 'typeorm';
import { runClaimed, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { MemberConfig } from '../config';
import { MemberEntity } from '../entities/member.entity';
import { birthMonthDay, birthMonthOf, type BirthdayNotice } from '../domain/birthday';
import type { PiiVault } from './pii.service';

type Kit = ServiceKit<MemberConfig>;

/** A page of members whose birthday the notice is about, after `afterId` in id order, and whether they heard this year. */
export async function birthdayPage(em: EntityManager, notice: BirthdayNotice, afterId: string, limit: number): Promise<Array<{ id: string; notified: boolean }>> {
  const rows: Array<{ id: string; notified: string | number }> = await em.query(
    `SELECT m.id, n.member_id IS NOT NULL AS notified FROM member m
       LEFT JOIN member_birthday_notice n ON n.member_id = m.id AND n.year = ?
      WHERE m.birth_md IN (?) AND m.status <> 'ERASED' AND m.id > ?
      ORDER BY m.id LIMIT ?`,
    [notice.year, notice.monthDays, afterId, limit],
  );
  return rows.map((r) => ({ id: r.id, notified: Number(r.notified) === 1 }));
}

/**
 * Announces the birthdays of `memberIds` in the caller's transaction: claims (member, year) first,
 * re-checking the birthday and status in the same statement (a member erased or given another
 * birthday since the page was read is left out), then emits `member.birthday_upcoming` for the
 * rows this run claimed. A concurrent run's claims make ours skip those members. Returns how many
 * were announced.
 */
export async function announceBirthdays(kit: Kit, em: EntityManager, notice: BirthdayNotice, runId: string, memberIds: string[]): Promise<number> {
  if (!memberIds.length) return 0;
  await em.query(
    `INSERT IGNORE INTO member_birthday_notice (member_id, year, business_date, run_id, notified_at)
     SELECT m.id, ?, ?, ?, ? FROM member m WHERE m.id IN (?) AND m.birth_md IN (?) AND m.status <> 'ERASED'`,
    [notice.year, notice.businessDate, runId, new Date(), memberIds, notice.monthDays],
  );
  const claimed: Array<{ member_id: string }> = await em.query(
    'SELECT member_id FROM member_birthday_notice WHERE run_id = ? AND member_id IN (?) ORDER BY member_id',
    [runId, memberIds],
  );
  if (!claimed.length) return 0;
  await kit.publishMany(
    em,
    claimed.map((c) => ({
      type: EventType.MemberBirthdayUpcoming,
      subject: c.member_id,
      data: checkedData(EventType.MemberBirthdayUpcoming, { memberId: c.member_id, year: notice.year, businessDate: notice.businessDate, daysAhead: notice.daysAhead }),
    })),
  );
  return claimed.length;
}

/** The month (1-12) of a member's birthday from the plain month-day column; null when unknown, erased or no such member. */
export async function birthMonthOfMember(em: EntityManager, memberId: string): Promise<number | null> {
  const row = await em.getRepository(MemberEntity).findOne({ select: { id: true, birthMd: true, status: true }, where: { id: memberId } });
  if (!row || row.status === 'ERASED') return null;
  return birthMonthOf(row.birthMd);
}

const BACKFILL = { job: 'birth_md_backfill', runKey: 'once', replica: 'start', leaseMs: 10 * 60_000 };

/**
 * Fills `birth_md` for members whose birthday was stored before the column existed (decrypting each
 * birthday once), in batches, then records that it is done, so later starts skip the scan (the
 * column is written with every birthday since). Claimed in `job_run` (one replica scans, a crashed
 * scan is taken over after the lease) and idempotent: a row already filled is left alone. Delete
 * the `job_run` row `birth_md_backfill` to make the next start check again.
 */
export async function backfillBirthMonthDay(kit: Kit, vault: PiiVault, batch = 500): Promise<number> {
  const run = await runClaimed(kit.ds, BACKFILL, () => scanBirthMonthDays(kit, vault, batch));
  return run?.result.members ?? 0;
}

async function scanBirthMonthDays(kit: Kit, vault: PiiVault, batch: number): Promise<{ members: number }> {
  let done = 0;
  let after = '';
  for (;;) {
    const rows = await kit.ds
      .getRepository(MemberEntity)
      .createQueryBuilder('m')
      .select(['m.id', 'm.dataKey', 'm.phoneEnc', 'm.nameEnc', 'm.birthdayEnc'])
      .where('m.birthMd IS NULL AND m.birthdayEnc IS NOT NULL AND m.dataKey IS NOT NULL')
      .andWhere('m.id > :after', { after })
      .orderBy('m.id', 'ASC')
      .limit(batch)
      .getMany();
    if (!rows.length) break;
    await kit.uow(async (em) => {
      for (const row of rows) {
        const birthMd = birthMonthDay(vault.open(row).birthday);
        // Only if still empty: a profile update in between wrote the new birthday's month-day itself.
        if (birthMd) await em.getRepository(MemberEntity).createQueryBuilder().update().set({ birthMd }).where('id = :id AND birth_md IS NULL', { id: row.id }).execute();
      }
    });
    done += rows.length;
    after = rows.at(-1)!.id;
    if (rows.length < batch) break;
  }
  return { members: done };
}
