import type { EntityManager } from 'typeorm';
import { newId, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { PointsConfig } from '../config';

/** Days ahead at which members hear that points will expire, furthest first. */
export const REMINDER_THRESHOLDS = [30, 7] as const;
const DAY = 86_400_000;

export interface ExpiryReminderRun {
  runId: string;
  asOf: Date;
  /** `points.expiring_soon` events written (one per member and threshold). */
  reminders: number;
  /** Lots reminded of. */
  lots: number;
}

/**
 * Emits `points.expiring_soon` for lots that still hold points and expire within 30 days of
 * `asOf` (and more than 7 days) or within 7 days: one event per member and threshold, each lot at
 * most once per threshold ever (points_expiry_reminder), so re-running, or running on several
 * replicas, reminds nobody twice. A lot first seen inside 7 days gets only the 7-day reminder.
 * Set-based per chunk of EXPIRY_BATCH_MEMBERS members.
 */
export async function runExpiryReminders(kit: ServiceKit<PointsConfig>, asOf: Date): Promise<ExpiryReminderRun> {
  const run: ExpiryReminderRun = { runId: newId(), asOf, reminders: 0, lots: 0 };
  for (const [i, days] of REMINDER_THRESHOLDS.entries()) {
    const next = REMINDER_THRESHOLDS[i + 1] ?? 0;
    const window = { from: new Date(asOf.getTime() + next * DAY), to: new Date(asOf.getTime() + days * DAY) };
    let after = '';
    for (;;) {
      const page: Array<{ member_id: string }> = await kit.ds.query(
        `SELECT DISTINCT l.member_id FROM points_lot l
           LEFT JOIN points_expiry_reminder r ON r.lot_id = l.id AND r.threshold_days = ?
          WHERE l.remaining > 0 AND l.expires_at > ? AND l.expires_at <= ? AND r.lot_id IS NULL AND l.member_id > ?
          ORDER BY l.member_id LIMIT ?`,
        [days, window.from, window.to, after, kit.config.EXPIRY_BATCH_MEMBERS],
      );
      if (!page.length) break;
      const memberIds = page.map((p) => p.member_id);
      const chunk = await kit.uow((em) => remindChunk(kit, em, run, days, window, memberIds));
      run.reminders += chunk.members;
      run.lots += chunk.lots;
      after = memberIds.at(-1)!;
    }
  }
  if (run.reminders) kit.log.info({ ...run }, 'points expiry reminders emitted');
  return run;
}

async function remindChunk(kit: ServiceKit<PointsConfig>, em: EntityManager, run: ExpiryReminderRun, days: number, window: { from: Date; to: Date }, memberIds: string[]) {
  const now = new Date();
  // Claim the lots: a concurrent run's claims make ours skip them (the primary key), so each lot is reminded once.
  await em.query(
    `INSERT IGNORE INTO points_expiry_reminder (lot_id, threshold_days, member_id, run_id, sent_at)
     SELECT l.id, ?, l.member_id, ?, ? FROM points_lot l
       LEFT JOIN points_expiry_reminder r ON r.lot_id = l.id AND r.threshold_days = ?
      WHERE l.member_id IN (?) AND l.remaining > 0 AND l.expires_at > ? AND l.expires_at <= ? AND r.lot_id IS NULL`,
    [days, run.runId, now, days, memberIds, window.from, window.to],
  );
  const claimed: Array<{ member_id: string; lots: string; amount: string; first: Date }> = await em.query(
    `SELECT r.member_id, COUNT(*) AS lots, SUM(l.remaining) AS amount, MIN(l.expires_at) AS first
       FROM points_expiry_reminder r JOIN points_lot l ON l.id = r.lot_id
      WHERE r.run_id = ? AND r.threshold_days = ? AND r.member_id IN (?)
      GROUP BY r.member_id ORDER BY r.member_id`,
    [run.runId, days, memberIds],
  );
  if (!claimed.length) return { members: 0, lots: 0 };
  await kit.publishMany(
    em,
    claimed.map((c) => ({
      type: EventType.PointsExpiringSoon,
      subject: c.member_id,
      data: checkedData(EventType.PointsExpiringSoon, {
        memberId: c.member_id,
        daysAhead: days,
        amount: Number(c.amount),
        lots: Number(c.lots),
        firstExpiresAt: new Date(c.first).toISOString(),
        asOf: run.asOf.toISOString(),
        runId: run.runId,
      }),
    })),
  );
  return { members: claimed.length, lots: claimed.reduce((s, c) => s + Number(c.lots), 0) };
}
