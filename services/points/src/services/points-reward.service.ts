import type { EntityManager } from 'typeorm';
import { audit, badField, conflict, forbidden, idempotent, newId, notFound, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { PointsConfig } from '../config';
import { PointsRewardEntity, type PointsRewardRow } from '../entities/points-reward.entity';
import { PointsRedemptionEntity, type PointsRedemptionRow } from '../entities/points-redemption.entity';
import { RewardType, checkRedemption, decideFulfilment, initialStatus, validateReward, type RewardInput } from '../domain/rewards';
import { EntryType, OtherReason } from '../domain/ledger';
import { debitPoints, lockAccount } from './points-ledger.service';
import { assertMayDebit } from './member-status.service';
import { tierOf } from './earn-rules.service';

/** Units per redemption at most. */
export const MAX_REDEEM_QUANTITY = 100;

/** A reward's allowed tiers as a list (null = every tier). */
export const tiersOf = (r: Pick<PointsRewardRow, 'tiers'>): string[] | null => (r.tiers ? r.tiers.split(',') : null);

/** Adds a reward to the catalogue after checking it (BAD_USER_INPUT naming the first bad field). Audited. */
export async function createReward(em: EntityManager, operator: string, input: RewardInput, at = new Date()): Promise<PointsRewardRow> {
  const violations = validateReward(input);
  if (violations.length) {
    const [first] = violations;
    throw badField(first!.field, `${first!.field} ${first!.message}`, { violations });
  }
  const row: PointsRewardRow = {
    id: newId(),
    name: input.name.trim(),
    description: input.description?.trim() || null,
    type: input.type as RewardType,
    cost: input.cost,
    stock: input.stock,
    redeemed: 0,
    perMemberLimit: input.perMemberLimit ?? null,
    validFrom: input.validFrom ?? null,
    validUntil: input.validUntil ?? null,
    tiers: input.tiers?.length ? [...new Set(input.tiers)].join(',') : null,
    couponTemplateId: input.couponTemplateId?.trim() || null,
    createdBy: operator,
    createdAt: at,
  };
  await em.getRepository(PointsRewardEntity).insert(row);
  await audit(em, operator, 'points.reward.create', row.id, { name: row.name, type: row.type, cost: row.cost, stock: row.stock });
  return row;
}

/** The catalogue: every reward for staff; for a member, those redeemable now by their tier (out of stock included, so they see it). */
export async function listRewards(em: EntityManager, view: { memberId: string } | 'staff', now = new Date()): Promise<PointsRewardRow[]> {
  const rows = await em.getRepository(PointsRewardEntity).find({ order: { id: 'ASC' } });
  if (view === 'staff') return rows;
  const tier = await tierOf(em, view.memberId);
  return rows.filter((r) => {
    const tiers = tiersOf(r);
    return (!r.validFrom || r.validFrom <= now) && (!r.validUntil || now < r.validUntil) && (!tiers || tiers.includes(tier));
  });
}

export interface RedeemInput {
  rewardId: string;
  quantity: number;
  idempotencyKey: string;
}

/**
 * The member spends cost x quantity points on a reward, FIFO from their lots (a SPEND entry, reason
 * REDEMPTION, reference = the redemption id). Locks the member's account, then the reward row, so stock
 * and the per-member limit are checked and lowered one redemption at a time: never oversold.
 * VIRTUAL is GRANTED at once, GIFT starts PENDING fulfilment, COUPON asks marketing for the coupon
 * (`points.reward_redeemed`, emitted for every type). Refusals: NOT_FOUND, FORBIDDEN (blocked member,
 * tier not allowed), CONFLICT (not valid now, OUT_OF_STOCK, MEMBER_LIMIT), INSUFFICIENT_FUNDS.
 * Same key + same input returns the first redemption; another input is CONFLICT.
 */
export async function redeemReward(kit: ServiceKit<PointsConfig>, em: EntityManager, memberId: string, input: RedeemInput, at = new Date()): Promise<PointsRedemptionRow> {
  const rewardId = input.rewardId.trim();
  if (!rewardId || rewardId.length > 26) throw badField('rewardId', 'rewardId must be a reward id (1-26 characters)');
  if (!Number.isSafeInteger(input.quantity) || input.quantity < 1 || input.quantity > MAX_REDEEM_QUANTITY) {
    throw badField('quantity', `quantity must be 1-${MAX_REDEEM_QUANTITY}`);
  }
  const key = input.idempotencyKey.trim();
  if (!/^[\x21-\x7e]{1,100}$/.test(key)) throw badField('idempotencyKey', 'idempotencyKey must be 1-100 printable ASCII characters');
  // Keys are the member's own: two members choosing the same key get two redemptions.
  const { redemptionId } = await idempotent(em, { operation: `redeemReward:${memberId}`, key, input: { rewardId, quantity: input.quantity } }, async () => {
    if (!(await em.getRepository(PointsRewardEntity).existsBy({ id: rewardId }))) throw notFound(`Reward ${rewardId}`);
    await assertMayDebit(em, memberId);
    // Lock order: the member's account (as every writer of their points), then the reward.
    await lockAccount(em, memberId);
    const reward = await em.getRepository(PointsRewardEntity).createQueryBuilder('r').where('r.id = :id', { id: rewardId }).setLock('pessimistic_write').getOneOrFail();
    const [{ taken }] = (await em.query('SELECT COALESCE(SUM(quantity), 0) AS taken FROM points_redemption WHERE member_id = ? AND reward_id = ?', [memberId, rewardId])) as [{ taken: string }];
    const check = checkRedemption(
      { cost: reward.cost, stock: reward.stock, perMemberLimit: reward.perMemberLimit, validFrom: reward.validFrom, validUntil: reward.validUntil, tiers: tiersOf(reward) },
      { quantity: input.quantity, tier: await tierOf(em, memberId), now: at, redeemedByMember: Number(taken) },
    );
    if (!check.ok) {
      if (check.code === 'TIER') throw forbidden(check.message);
      throw conflict(check.message, { field: check.code === 'NOT_AVAILABLE' ? 'rewardId' : 'quantity', reason: check.code });
    }
    const id = newId();
    const entry = await debitPoints(kit, em, {
      memberId,
      type: EntryType.SPEND,
      amount: check.points,
      reason: OtherReason.REDEMPTION,
      reference: id,
      idempotencyKey: `redeem:${id}`,
      at,
    });
    await em.query('UPDATE points_reward SET stock = stock - ?, redeemed = redeemed + ? WHERE id = ?', [input.quantity, input.quantity, rewardId]);
    const row: PointsRedemptionRow = {
      id,
      rewardId,
      memberId,
      rewardType: reward.type,
      quantity: input.quantity,
      points: check.points,
      entryId: entry.id,
      status: initialStatus(reward.type),
      note: null,
      createdAt: at,
      updatedAt: at,
      updatedBy: null,
    };
    await em.getRepository(PointsRedemptionEntity).insert(row);
    await kit.publish(
      em,
      EventType.PointsRewardRedeemed,
      memberId,
      checkedData(EventType.PointsRewardRedeemed, {
        memberId,
        redemptionId: id,
        rewardId,
        rewardType: reward.type,
        quantity: input.quantity,
        points: check.points,
        entryId: entry.id,
        couponTemplateId: reward.type === RewardType.COUPON ? reward.couponTemplateId : null,
        redeemedAt: at.toISOString(),
      }),
    );
    return { redemptionId: id };
  });
  return em.getRepository(PointsRedemptionEntity).findOneByOrFail({ id: redemptionId });
}

export interface FulfilmentInput {
  redemptionId: string;
  status: string;
  note?: string | null;
}

/** Moves a GIFT redemption's fulfilment forward (PENDING -> SHIPPED -> DELIVERED); the same status again returns it; anything else is CONFLICT. Audited. */
export async function updateFulfilment(em: EntityManager, operator: string, input: FulfilmentInput, at = new Date()): Promise<PointsRedemptionRow> {
  const id = input.redemptionId.trim();
  if (!id || id.length > 26) throw badField('redemptionId', 'redemptionId must be a redemption id (1-26 characters)');
  const note = input.note?.trim() || null;
  if (note && note.length > 255) throw badField('note', 'note must be at most 255 characters');
  const repo = em.getRepository(PointsRedemptionEntity);
  const row = await repo.createQueryBuilder('r').where('r.id = :id', { id }).setLock('pessimistic_write').getOne();
  if (!row) throw notFound(`Redemption ${id}`);
  const decision = decideFulfilment(row.rewardType, row.status, input.status);
  if (decision === 'replay') return row;
  if (decision === 'conflict') throw conflict(`A ${row.rewardType} redemption cannot go from ${row.status} to ${input.status}`, { field: 'status', status: row.status });
  const change = { status: input.status as PointsRedemptionRow['status'], note, updatedAt: at, updatedBy: operator };
  await repo.update({ id }, change);
  await audit(em, operator, 'points.redemption.fulfilment', row.memberId, { redemptionId: id, from: row.status, to: input.status, note });
  return { ...row, ...change };
}
