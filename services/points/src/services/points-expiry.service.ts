import type { EntityManager } from 'typeorm';
import { newId, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { PointsConfig } from '../config';
import type { PointsEntryRow } from '../entities/points-entry.entity';
import { EntryType, OtherReason, idempotencyKeys } from '../domain/ledger';
import { appendEntries } from './points-ledger.service';

export interface ExpiryRun {
  runId: string;
  asOf: Date;
  membersAffected: number;
  lotsExpired: number;
  pointsExpired: number;
}

/**
 * Expires every lot whose expiry is at or before `asOf` and still holds points: one EXPIRE entry
 * per member per run, drawn from exactly those lots, and one `points.expired` per member. Set-based:
 * each chunk of members is a fixed number of statements whatever the number of lots, and commits
 * on its own. Re-running finds nothing left to expire, so it is safe (the second run is empty).
 */
export async function runPointsExpiry(kit: ServiceKit<PointsConfig>, asOf: Date, operator: string): Promise<ExpiryRun> {
  const run: ExpiryRun = { runId: newId(), asOf, membersAffected: 0, lotsExpired: 0, pointsExpired: 0 };
  let after = '';
  for (;;) {
    // Walk the (member_id, expires_at) index from the cursor: on the expiry index every page would
    // re-read and sort all the due lots (measured: 200k lots, 38.9 s before this, see docs/benchmarks.md).
    const page: Array<{ member_id: string }> = await kit.ds.query(
      `SELECT DISTINCT member_id FROM points_lot FORCE INDEX (idx_points_lot_fifo)
        WHERE member_id > ? AND expires_at <= ? AND remaining > 0 ORDER BY member_id LIMIT ?`,
      [after, asOf, kit.config.EXPIRY_BATCH_MEMBERS],
    );
    if (!page.length) break;
    const memberIds = page.map((r) => r.member_id);
    const chunk = await kit.uow((em) => expireChunk(kit, em, run, memberIds, operator));
    run.membersAffected += chunk.members;
    run.lotsExpired += chunk.lots;
    run.pointsExpired += chunk.points;
    after = memberIds.at(-1)!;
  }
  kit.log.info({ ...run }, 'points expiry run finished');
  return run;
}

async function expireChunk(kit: ServiceKit<PointsConfig>, em: EntityManager, run: ExpiryRun, memberIds: string[], operator: string) {
  const { asOf, runId } = run;
  // Accounts first, in key order, like every other writer: the lots cannot change under us after this.
  const accounts: Array<{ member_id: string; balance: string }> = await em.query(
    'SELECT member_id, balance FROM points_account WHERE member_id IN (?) ORDER BY member_id FOR UPDATE',
    [memberIds],
  );
  const balances = new Map(accounts.map((a) => [a.member_id, Number(a.balance)]));
  // Re-read under the locks: a debit may have emptied some lots since the page was read.
  const due: Array<{ member_id: string; points: string; lots: string }> = await em.query(
    `SELECT member_id, SUM(remaining) AS points, COUNT(*) AS lots FROM points_lot
      WHERE member_id IN (?) AND expires_at <= ? AND remaining > 0 GROUP BY member_id ORDER BY member_id`,
    [memberIds, asOf],
  );
  if (!due.length) return { members: 0, lots: 0, points: 0 };
  const now = new Date();
  const entries: PointsEntryRow[] = due.map((d) => {
    const points = Number(d.points);
    return {
      id: newId(),
      memberId: d.member_id,
      type: EntryType.EXPIRE,
      amount: -points,
      held: 0,
      balanceAfter: (balances.get(d.member_id) ?? 0) - points,
      reason: OtherReason.EXPIRY,
      reference: runId,
      idempotencyKey: idempotencyKeys.expire(runId, d.member_id),
      operator,
      note: null,
      createdAt: now,
    };
  });
  await appendEntries(em, entries);
  const keyPrefix = idempotencyKeys.expire(runId, '');
  // Each expiring lot is drawn in full by its member's EXPIRE entry of this run.
  await em.query(
    `INSERT INTO points_draw (entry_id, lot_id, member_id, amount)
     SELECT e.id, l.id, l.member_id, l.remaining FROM points_lot l
       JOIN points_entry e ON e.idempotency_key = CONCAT(?, l.member_id)
      WHERE l.member_id IN (?) AND l.expires_at <= ? AND l.remaining > 0`,
    [keyPrefix, memberIds, asOf],
  );
  await em.query('UPDATE points_lot SET remaining = 0 WHERE member_id IN (?) AND expires_at <= ? AND remaining > 0', [memberIds, asOf]);
  await em.query(
    `UPDATE points_account a JOIN points_entry e ON e.member_id = a.member_id AND e.idempotency_key = CONCAT(?, a.member_id)
        SET a.balance = e.balance_after, a.updated_at = e.created_at
      WHERE a.member_id IN (?)`,
    [keyPrefix, memberIds],
  );
  // One multi-row outbox insert for the chunk instead of one publish per member.
  await kit.publishMany(
    em,
    due.map((d, i) => ({
      type: EventType.PointsExpired,
      subject: d.member_id,
      data: checkedData(EventType.PointsExpired, {
        memberId: d.member_id,
        entryId: entries[i]!.id,
        amount: -entries[i]!.amount,
        balance: entries[i]!.balanceAfter,
        lots: Number(d.lots),
        asOf: asOf.toISOString(),
        runId,
      }),
    })),
  );
  return { members: due.length, lots: due.reduce((s, d) => s + Number(d.lots), 0), points: due.reduce((s, d) => s + Number(d.points), 0) };
}
