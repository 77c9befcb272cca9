import type { EntityManager } from 'typeorm';
import { newId, type ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../config';
import { PointsAwardEntity } from '../entities/points-award.entity';
import { PointsPendingEntity, type PointsPendingRow } from '../entities/points-pending.entity';
import { EarnReason, idempotencyKeys } from '../domain/ledger';
import { earnPoints, lockAccount } from './points-ledger.service';

export interface PendingReleaseRun {
  runId: string;
  asOf: Date;
  /** Orders whose points were credited. */
  released: number;
  /** Orders whose points refunds had cancelled entirely (nothing credited). */
  cancelled: number;
  /** Points credited. */
  points: number;
}

/** When an order completed at `completedAt` stops being returnable. */
export function releaseAtFor(completedAt: Date, windowDays: number): Date {
  return new Date(completedAt.getTime() + windowDays * 86_400_000);
}

/**
 * Credits every order's pending points whose return window closed at or before `asOf`: the rest
 * after refunds (amount - cancelled) becomes the order's EARN entry (key `order:<id>`, so it can
 * never be credited twice) with a lot expiring from now. One order per transaction, pages of
 * EXPIRY_BATCH_MEMBERS; safe to re-run and to run on several replicas (rows re-read under the account lock).
 */
export async function runPendingRelease(kit: ServiceKit<PointsConfig>, asOf: Date): Promise<PendingReleaseRun> {
  const run: PendingReleaseRun = { runId: newId(), asOf, released: 0, cancelled: 0, points: 0 };
  let after = '';
  for (;;) {
    const page: Array<{ order_id: string }> = await kit.ds.query(
      `SELECT order_id FROM points_pending WHERE status = 'PENDING' AND release_at <= ? AND order_id > ? ORDER BY order_id LIMIT ?`,
      [asOf, after, kit.config.EXPIRY_BATCH_MEMBERS],
    );
    if (!page.length) break;
    for (const { order_id } of page) {
      const done = await kit.uow((em) => releasePending(kit, em, order_id, asOf));
      if (done?.status === 'RELEASED') {
        run.released++;
        run.points += done.amount - done.cancelled;
      } else if (done?.status === 'CANCELLED') {
        run.cancelled++;
      }
    }
    after = page.at(-1)!.order_id;
  }
  if (run.released || run.cancelled) kit.log.info({ ...run }, 'pending points released');
  return run;
}

async function releasePending(kit: ServiceKit<PointsConfig>, em: EntityManager, orderId: string, asOf: Date): Promise<PointsPendingRow | null> {
  const repo = em.getRepository(PointsPendingEntity);
  const seen = await repo.findOneBy({ orderId });
  if (!seen) return null;
  // The account first (refunds cancel pending points under it), then the row, re-read.
  await lockAccount(em, seen.memberId);
  const row = await repo.createQueryBuilder('p').where('p.order_id = :orderId', { orderId }).setLock('pessimistic_write').getOneOrFail();
  if (row.status !== 'PENDING' || row.releaseAt.getTime() > asOf.getTime()) return null;
  const now = new Date();
  const net = row.amount - row.cancelled;
  let entryId: string | null = null;
  if (net > 0) {
    // A promotion's shorter expiry counts from the release, when the points become spendable.
    const award = await em.getRepository(PointsAwardEntity).findOneBy({ key: idempotencyKeys.order(orderId) });
    const entry = await earnPoints(kit, em, {
      memberId: row.memberId,
      amount: net,
      reason: EarnReason.ORDER,
      reference: orderId,
      idempotencyKey: idempotencyKeys.order(orderId),
      note: row.cancelled ? `pending ${row.amount}, ${row.cancelled} cancelled by refunds` : null,
      at: now,
      expiryDays: award?.lotExpiryDays ?? null,
    });
    entryId = entry?.id ?? null;
    if (entryId) await em.getRepository(PointsAwardEntity).update({ key: idempotencyKeys.order(orderId) }, { entryId });
  }
  const status = net > 0 ? ('RELEASED' as const) : ('CANCELLED' as const);
  await repo.update({ orderId }, { status, entryId, resolvedAt: now });
  return { ...row, status, entryId, resolvedAt: now };
}

/** Points a member has PENDING (earned from orders still inside their return window), net of refunds. */
export async function pendingPoints(em: EntityManager, memberId: string): Promise<number> {
  const [row] = (await em.query("SELECT COALESCE(SUM(amount - cancelled), 0) AS pending FROM points_pending WHERE member_id = ? AND status = 'PENDING'", [memberId])) as [
    { pending: string },
  ];
  return Number(row.pending);
}
