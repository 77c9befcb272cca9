import type { EntityManager } from 'typeorm';
import { AppError, ErrorCode, badField, conflict, notFound, type ServiceKit } from '@membergraph/platform';
import type { RefundHoldReply, RefundHoldRequest } from '@membergraph/contracts';
import type { PointsConfig } from '../config';
import { PointsAccountEntity } from '../entities/points-account.entity';
import { PointsHoldEntity } from '../entities/points-hold.entity';
import { PointsHoldRefundEntity, type PointsHoldRefundRow } from '../entities/points-hold-refund.entity';
import { HoldStatus } from '../domain/holds';
import { EntryType, OtherReason, applyEntry, availableOf, idempotencyKeys } from '../domain/ledger';
import { planGiveBack } from '../domain/restore';
import { appendEntry, lockAccount, newEntry, recordDraws, repayDebt } from './points-ledger.service';

const reply = (row: Pick<PointsHoldRefundRow, 'holdId' | 'restored' | 'expired'>): RefundHoldReply => ({ holdId: row.holdId, restored: row.restored, expired: row.expired });

/**
 * The wallet refunded a payment made partly with points: gives `amount` of what the captured hold
 * spent back to the lots it drew them from, with their original expiry (a RESTORE entry of +restored
 * with negative draws on those lots). Slices whose lot expired meanwhile are not revived: they are
 * reported as `expired` and written nowhere but the give-back row. Once per (holdId, refundId): a
 * repeat replays the first answer, the same refund id with another amount is CONFLICT. Never more than
 * the hold captured minus earlier give-backs (BAD_USER_INPUT on `amount`); a hold that is not
 * CAPTURED is CONFLICT. Points coming back into a debt repay it first, like every credit.
 */
export async function refundHold(kit: ServiceKit<PointsConfig>, em: EntityManager, req: RefundHoldRequest, at = new Date()): Promise<RefundHoldReply> {
  const holdId = req.holdId.trim();
  const refundId = req.refundId.trim();
  if (!holdId || holdId.length > 26) throw badField('holdId', 'holdId must be a hold id (1-26 characters)');
  if (!refundId || refundId.length > 64) throw badField('refundId', 'refundId must be 1-64 characters');
  const seen = await em.getRepository(PointsHoldEntity).findOneBy({ id: holdId });
  if (!seen) throw notFound(`Hold ${holdId}`);
  // The account first, like every writer of this member's lots; then the hold.
  const before = await lockAccount(em, seen.memberId);
  const hold = await em.getRepository(PointsHoldEntity).createQueryBuilder('h').where('h.id = :id', { id: holdId }).setLock('pessimistic_write').getOneOrFail();
  const giveBacks = em.getRepository(PointsHoldRefundEntity);
  const first = await giveBacks.findOneBy({ holdId, refundId });
  if (first) {
    if (first.amount !== req.amount) throw conflict(`refund ${refundId} of hold ${holdId} gave back ${first.amount} points, not ${req.amount}`, { field: 'refundId' });
    return reply(first);
  }
  if (hold.status !== HoldStatus.CAPTURED) throw conflict(`hold ${holdId} is ${hold.status}: only a captured hold's points can be given back`, { field: 'holdId', status: hold.status });
  const [{ given }] = (await em.query('SELECT COALESCE(SUM(amount), 0) AS given FROM points_hold_refund WHERE hold_id = ?', [holdId])) as [{ given: string }];
  const already = Number(given);
  if (already + req.amount > hold.amount) {
    throw badField('amount', `hold ${holdId} spent ${hold.amount} points and ${already} were given back: at most ${hold.amount - already} more`, { left: hold.amount - already });
  }
  const draws: Array<{ lot_id: string; amount: string; expires_at: Date; earned_at: Date }> = await em.query(
    'SELECT d.lot_id, d.amount, l.expires_at, l.earned_at FROM points_draw d JOIN points_lot l ON l.id = d.lot_id WHERE d.entry_id = ?',
    [hold.holdEntryId],
  );
  const plan = planGiveBack(
    draws.map((d) => ({ id: d.lot_id, drawn: Number(d.amount), remaining: 0, expiresAt: new Date(d.expires_at), earnedAt: new Date(d.earned_at) })),
    already,
    req.amount,
    at,
  );
  let entryId: string | null = null;
  if (plan.restored > 0) {
    const after = applyEntry(before, EntryType.RESTORE, plan.restored);
    const entry = newEntry({
      memberId: hold.memberId,
      type: EntryType.RESTORE,
      amount: plan.restored,
      balanceAfter: after.balance,
      reason: OtherReason.PAYMENT_REFUND,
      reference: hold.id,
      idempotencyKey: idempotencyKeys.restore(hold.id, refundId),
      note: plan.expired ? `refund ${refundId}: ${plan.expired} points not restored (lots expired)` : `refund ${refundId}`,
      createdAt: at,
    });
    if (!(await appendEntry(em, entry))) throw new AppError(ErrorCode.CONFLICT, `ledger entry ${entry.idempotencyKey} already exists`);
    await recordDraws(em, hold.memberId, plan.restore.map((r) => ({ entryId: entry.id, lotId: r.lotId, amount: -r.amount })));
    // Points coming back into a debt pay it off first.
    const available = availableOf(before);
    if (available < 0) await repayDebt(em, hold.memberId, Math.min(plan.restored, -available));
    await em.getRepository(PointsAccountEntity).update({ memberId: hold.memberId }, { balance: after.balance, updatedAt: at });
    entryId = entry.id;
  }
  const row: PointsHoldRefundRow = { holdId, refundId, memberId: hold.memberId, amount: req.amount, restored: plan.restored, expired: plan.expired, entryId, createdAt: at };
  await giveBacks.insert(row);
  if (plan.expired) kit.log.info({ holdId, refundId, restored: plan.restored, expired: plan.expired }, 'hold refund: some lots had expired');
  return reply(row);
}
