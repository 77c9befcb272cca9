import { describe, expect, it } from 'vitest';
import { newId } from '@membergraph/platform';
import { eventually, serviceUnderTest } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { serviceModule } from '../src/module';
import { dailySlot } from '../src/domain/schedule';
import { auditPoints } from '../src/services/points-audit.service';
import { runPointsExpiry } from '../src/services/points-expiry.service';
import { runExpiryReminders } from '../src/services/points-reminder.service';
import { creditPoints } from '../src/services/points-ledger.service';
import { DailyJob, EXPIRY_SCHEDULER, runDailyJob } from '../src/services/points-schedule.service';

// The scheduler's own workers stay off: each test drives them (or runDailyJob) itself, so nothing
// expires behind a test's back. Expiry at 00:05, reminders at 10:00, Shanghai time (the defaults).
const svc = serviceUnderTest('points', createApp, { env: { WELCOME_POINTS: '0', HOLD_SWEEP_INTERVAL_MS: '0', DAILY_JOBS_CHECK_INTERVAL_MS: '0' } });
const DAY = 86_400_000;
const TZ = 'Asia/Shanghai';

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return svc.app.kit.ds.query(query, params);
}

/** A member with one lot of `amount` points earned `daysAgo` days ago (12-month policy: 400 days ago is expired). */
async function memberWithLot(amount: number, daysAgo: number): Promise<string> {
  const memberId = newId();
  await svc.app.kit.uow((em) =>
    creditPoints(svc.app.kit, em, { memberId, type: 'EARN', amount, reason: 'ORDER', reference: 'seed', idempotencyKey: `seed:${memberId}`, at: new Date(Date.now() - daysAgo * DAY) }),
  );
  return memberId;
}

async function expireEntries(memberId: string) {
  return sql<{ amount: string; operator: string }>("SELECT amount, operator FROM points_entry WHERE member_id = ? AND type = 'EXPIRE'", [memberId]);
}

async function jobRun(job: string, businessDay: string) {
  const [row] = await sql<{ attempts: number; finished_at: Date | null; claimed_by: string; result: string | null }>(
    'SELECT attempts, finished_at, claimed_by, result FROM job_run WHERE job = ? AND run_key = ?',
    [job, businessDay],
  );
  return row;
}

async function accountClean(memberIds: string[]) {
  const audit = await auditPoints(svc.app.kit.ds.manager);
  expect(audit.differences.filter((d) => memberIds.includes(d.memberId))).toEqual([]);
}

/** An instant `days` days from now, an hour after the job's local run time: the job is due then. */
function dueOn(days: number, minutes: number): Date {
  return new Date(dailySlot(new Date(Date.now() + days * DAY), TZ, minutes).dueAt.getTime() + 3_600_000);
}

describe('the daily points jobs', () => {
  it('run by themselves: the module\'s workers expire what is due and send the reminders, once for the day', async () => {
    const expired = await memberWithLot(70, 400);
    const expiringSoon = await memberWithLot(40, 350);
    const kit = svc.app.kit;
    // The module's own workers, ticking fast, due from midnight.
    const workers = serviceModule.workers!({ ...kit, config: { ...kit.config, DAILY_JOBS_CHECK_INTERVAL_MS: 50, POINTS_EXPIRY_RUN_AT: 0, EXPIRY_REMINDER_RUN_AT: 0 } });
    for (const w of workers) w.start();
    try {
      const today = dailySlot(new Date(), TZ, 0).businessDay;
      await eventually(async () => {
        expect((await jobRun(DailyJob.POINTS_EXPIRY, today))?.finished_at).toBeTruthy();
        expect((await jobRun(DailyJob.EXPIRY_REMINDERS, today))?.finished_at).toBeTruthy();
      });
    } finally {
      for (const w of workers) await w.stop();
    }
    expect((await expireEntries(expired)).map((e) => ({ amount: Number(e.amount), operator: e.operator }))).toEqual([{ amount: -70, operator: EXPIRY_SCHEDULER }]);
    const reminders = await sql<{ payload: string }>("SELECT payload FROM outbox WHERE type = 'points.expiring_soon' AND subject = ?", [expiringSoon]);
    expect(reminders.map((r) => JSON.parse(r.payload).data)).toMatchObject([{ memberId: expiringSoon, daysAhead: 30, amount: 40 }]);
    await accountClean([expired, expiringSoon]);
  });

  it('is not due before its local time of day', async () => {
    const slot = dailySlot(new Date(Date.now() + 3 * DAY), TZ, svc.app.kit.config.POINTS_EXPIRY_RUN_AT);
    expect(await runDailyJob(svc.app.kit, DailyJob.POINTS_EXPIRY, 'r1', new Date(slot.dueAt.getTime() - 60_000))).toBeNull();
    expect(await jobRun(DailyJob.POINTS_EXPIRY, slot.businessDay)).toBeUndefined();
  });

  it('runs once per business day however many replicas tick at once, and again the next day', async () => {
    const memberId = await memberWithLot(55, 400);
    const at = dueOn(1, svc.app.kit.config.POINTS_EXPIRY_RUN_AT);
    const runs = await Promise.all(Array.from({ length: 5 }, (_, i) => runDailyJob(svc.app.kit, DailyJob.POINTS_EXPIRY, `replica-${i}`, at)));
    const won = runs.filter((r) => r !== null);
    expect(won).toHaveLength(1);
    expect(won[0]).toMatchObject({ job: DailyJob.POINTS_EXPIRY, businessDay: dailySlot(at, TZ, 0).businessDay });
    expect(await expireEntries(memberId)).toHaveLength(1);
    // Later the same day: done already.
    expect(await runDailyJob(svc.app.kit, DailyJob.POINTS_EXPIRY, 'replica-9', new Date(at.getTime() + 3_600_000))).toBeNull();
    const row = await jobRun(DailyJob.POINTS_EXPIRY, won[0]!.businessDay);
    expect(row).toMatchObject({ attempts: 1 });
    expect(JSON.parse(row!.result!)).toMatchObject({ membersAffected: expect.any(Number) });
    // The next business day has its own run.
    expect(await runDailyJob(svc.app.kit, DailyJob.POINTS_EXPIRY, 'replica-0', new Date(at.getTime() + DAY))).not.toBeNull();
    await accountClean([memberId]);
  });

  it('lets another replica take over a run left unfinished once its lease lapsed, not before', async () => {
    const at = dueOn(5, svc.app.kit.config.POINTS_EXPIRY_RUN_AT);
    const day = dailySlot(at, TZ, 0).businessDay;
    // A replica claimed the day and died: its lease runs until 10 minutes after `at`.
    await sql(
      `INSERT INTO job_run (job, run_key, run_id, claimed_by, lease_until, attempts, started_at) VALUES (?, ?, ?, 'dead-replica', ?, 1, ?)`,
      [DailyJob.POINTS_EXPIRY, day, newId(), new Date(at.getTime() + 600_000), at],
    );
    const memberId = await memberWithLot(30, 400);
    expect(await runDailyJob(svc.app.kit, DailyJob.POINTS_EXPIRY, 'replica-1', new Date(at.getTime() + 60_000))).toBeNull();
    expect(await expireEntries(memberId)).toHaveLength(0);
    const later = await Promise.all([1, 2].map((i) => runDailyJob(svc.app.kit, DailyJob.POINTS_EXPIRY, `replica-${i}`, new Date(at.getTime() + 601_000))));
    expect(later.filter((r) => r !== null)).toHaveLength(1);
    expect(await jobRun(DailyJob.POINTS_EXPIRY, day)).toMatchObject({ attempts: 2, finished_at: expect.any(Date) });
    expect(await expireEntries(memberId)).toHaveLength(1);
  });

  it('leaves two expiry runs at once (a lease lapsed mid-run) harmless: every member expires once', async () => {
    const members = await Promise.all(Array.from({ length: 20 }, (_, i) => memberWithLot(10 + i, 400)));
    const asOf = new Date();
    const [a, b] = await Promise.all([runPointsExpiry(svc.app.kit, asOf, 'replica-a'), runPointsExpiry(svc.app.kit, asOf, 'replica-b')]);
    expect(a.pointsExpired + b.pointsExpired).toBe(members.reduce((s, _, i) => s + 10 + i, 0));
    for (const m of members) expect(await expireEntries(m)).toHaveLength(1);
    const [left] = await sql<{ remaining: string }>('SELECT COALESCE(SUM(remaining), 0) AS remaining FROM points_lot WHERE member_id IN (?)', [members]);
    expect(Number(left!.remaining)).toBe(0);
    await accountClean(members);
  });

  it('leaves two reminder runs at once harmless: each member hears once per threshold', async () => {
    const members = await Promise.all(Array.from({ length: 20 }, () => memberWithLot(25, 350)));
    const asOf = new Date();
    const [a, b] = await Promise.all([runExpiryReminders(svc.app.kit, asOf), runExpiryReminders(svc.app.kit, asOf)]);
    expect(a.reminders + b.reminders).toBeGreaterThanOrEqual(members.length);
    const rows = await sql<{ subject: string; payload: string }>("SELECT subject, payload FROM outbox WHERE type = 'points.expiring_soon' AND subject IN (?)", [members]);
    expect(rows.map((r) => r.subject).sort()).toEqual([...members].sort());
    expect(rows.every((r) => JSON.parse(r.payload).data.daysAhead === 30)).toBe(true);
  });
});
