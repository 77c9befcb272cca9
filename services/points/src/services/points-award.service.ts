import type { EntityManager } from 'typeorm';
import { isDuplicateKey, type ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../config';
import { PointsAwardEntity, type PointsAwardRow } from '../entities/points-award.entity';
import { PointsPendingEntity } from '../entities/points-pending.entity';
import { applyDailyCaps, businessDay, cappedNote, type CappedRule } from '../domain/behaviour';
import type { EarnReason } from '../domain/ledger';
import { earnPoints, lockAccount } from './points-ledger.service';
import type { PointsReviewRow } from '../entities/points-review.entity';
import { screenEarning, type EarnOrigin } from './points-review.service';

export interface AwardInput {
  memberId: string;
  rule: CappedRule;
  requested: number;
  reason: EarnReason;
  reference: string | null;
  /** The natural idempotency key: of the award row and of its EARN entry. */
  key: string;
  /** When the earning happened: its tenant business day is the one the caps count in (now by default). */
  earnedAt?: Date;
  /** Set (an order inside its return window): the granted points go PENDING until then instead of being credited. */
  pendingUntil?: { orderId: string; releaseAt: Date } | null;
  /** The device and IP the integration reported, for the velocity rules. */
  origin?: EarnOrigin;
  /** At most this many days of validity for the lot (a promotion's `expiryDays`), whenever it is credited. */
  lotExpiryDays?: number | null;
}

export interface AwardResult {
  award: PointsAwardRow;
  /** True when the key was already awarded: nothing changed. */
  replayed: boolean;
  /** Set when a velocity rule put the earning on hold: nothing was credited (or made pending). */
  review?: PointsReviewRow | null;
}

/**
 * An earning under the member's daily caps (POINTS_DAILY_CAPS, per rule and TOTAL, in the tenant
 * business day), once per key: what goes over a cap is not granted, and both the award row and the
 * EARN entry's note say what was asked and what was granted. Nothing granted = no entry (the ledger
 * has no zero entries), only the award row. An earning a velocity rule flags is held for review
 * instead (`review`; nothing credited). Call inside the unit of work; locks the account.
 */
export async function awardCapped(kit: ServiceKit<PointsConfig>, em: EntityManager, input: AwardInput): Promise<AwardResult> {
  const now = new Date();
  // The account lock serialises this member's awards, so two earnings cannot both fit under a cap.
  await lockAccount(em, input.memberId);
  const awards = em.getRepository(PointsAwardEntity);
  const existing = await awards.findOneBy({ key: input.key });
  if (existing) return { award: existing, replayed: true };
  const day = businessDay(input.earnedAt ?? now, kit.config.TENANT_TIME_ZONE);
  const [used] = (await em.query(
    `SELECT COALESCE(SUM(CASE WHEN rule = ? THEN granted ELSE 0 END), 0) AS rule_used, COALESCE(SUM(granted), 0) AS total_used
       FROM points_award WHERE member_id = ? AND business_day = ?`,
    [input.rule, input.memberId, day],
  )) as [{ rule_used: string; total_used: string }];
  const decision = applyDailyCaps(input.requested, input.rule, { rule: Number(used.rule_used), total: Number(used.total_used) }, kit.config.POINTS_DAILY_CAPS);
  const award: PointsAwardRow = {
    key: input.key,
    memberId: input.memberId,
    rule: input.rule,
    reference: input.reference,
    businessDay: day,
    requested: input.requested,
    granted: decision.granted,
    cappedBy: decision.cappedBy,
    entryId: null,
    lotExpiryDays: input.lotExpiryDays ?? null,
    createdAt: now,
  };
  // Velocity rules see every earning that would grant something; a flagged one waits for a reviewer.
  const review =
    decision.granted > 0
      ? await screenEarning(kit, em, {
          key: input.key,
          memberId: input.memberId,
          rule: input.rule,
          reason: input.reason,
          reference: input.reference,
          points: decision.granted,
          earnedAt: input.earnedAt ?? now,
          ...input.origin,
        })
      : null;
  if (review) {
    // Approval credits it at once (an order's return window is not waited for again).
  } else if (decision.granted > 0 && input.pendingUntil) {
    try {
      await em.getRepository(PointsPendingEntity).insert({
        orderId: input.pendingUntil.orderId,
        memberId: input.memberId,
        amount: decision.granted,
        cancelled: 0,
        status: 'PENDING',
        releaseAt: input.pendingUntil.releaseAt,
        entryId: null,
        createdAt: now,
        resolvedAt: null,
      });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      return { award, replayed: true };
    }
  } else if (decision.granted > 0) {
    const entry = await earnPoints(kit, em, {
      memberId: input.memberId,
      amount: decision.granted,
      reason: input.reason,
      reference: input.reference,
      idempotencyKey: input.key,
      note: decision.cappedBy ? cappedNote(input.requested, decision.granted, decision.cappedBy) : null,
      expiryDays: award.lotExpiryDays,
    });
    // Earned before awards were recorded (an older deploy): the ledger's key says it is done.
    if (!entry) return { award, replayed: true };
    award.entryId = entry.id;
  }
  await awards.insert(award);
  if (decision.cappedBy) kit.log.info({ memberId: input.memberId, rule: input.rule, requested: input.requested, granted: decision.granted, cappedBy: decision.cappedBy }, 'earning capped');
  return { award, replayed: false, review };
}
