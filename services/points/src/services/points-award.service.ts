import type { EntityManager } from 'typeorm';
import { businessDay, isDuplicateKey, type ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../config';
import { PointsAwardEntity, type PointsAwardRow } from '../entities/points-award.entity';
import { PointsPendingEntity } from '../entities/points-pending.entity';
import { applyDailyCaps, cappedNote, type CappedRule } from '../domain/behaviour';
import type { AccountTotals, EarnReason } from '../domain/ledger';
import type { VelocityFacts } from '../domain/fraud';
import { earnPoints, lockAccount } from './points-ledger.service';
import type { PointsReviewRow } from '../entities/points-review.entity';
import { screenEarning, velocityColumns, velocityFactsOf, type EarnOrigin } from './points-review.service';
import { EARN_RULE_SET } from './earn-rules.service';

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
  /** An order's earning: also tells whether refunds wait parked for the order (`AwardResult.parkedRefunds`). */
  orderId?: string | null;
  /**
   * The caller already holds the member's account lock: its totals as read under it, and optionally
   * the facts read under it by {@link readAwardFacts} for this same input. Neither is read again.
   */
  locked?: { account: AccountTotals; facts?: AwardFacts } | null;
}

export interface AwardResult {
  award: PointsAwardRow;
  /** True when the key was already awarded: nothing changed. */
  replayed: boolean;
  /** Set when a velocity rule put the earning on hold: nothing was credited (or made pending). */
  review?: PointsReviewRow | null;
  /** With `orderId`: refunds of the order are parked, waiting for its earning (apply them now). */
  parkedRefunds?: boolean;
}

/** What an earning decides on, read in one round trip (under the member's account lock, for the caps and the velocity rules to be exact). */
export interface AwardFacts {
  /** The key was awarded already. */
  awarded: boolean;
  /** Granted in the earning's business day under its rule and in total; zeros when no cap could cut it (then not read). */
  used: { rule: number; total: number };
  /** The velocity windows; null when no velocity rule can apply (then not read). */
  velocity: VelocityFacts | null;
  /** With `orderId`: refunds of the order are parked. */
  parkedRefunds: boolean;
  /** With `profile`: the saved earn rules' version (0 = none saved), the projected tier (MEMBER when unknown) and status (ACTIVE when unknown). */
  rulesVersion: number;
  tier: string;
  status: string;
}

export interface AwardFactsInput {
  memberId: string;
  rule: CappedRule;
  key: string;
  earnedAt: Date;
  origin?: EarnOrigin;
  orderId?: string | null;
  /** Also read the earn rules' version and the member's tier and status projections (orders). */
  profile?: boolean;
}

/**
 * Everything an earning decides on, in one SELECT of scalar subqueries: whether its key was awarded,
 * the day's cap usage (only when a cap could cut the rule), the velocity windows (only the rules that
 * can apply), whether refunds are parked for the order, and with `profile` the rules' version, tier
 * and status. Call it after locking the member's account (a separate statement, so the reads are
 * taken after the lock was granted and see every earning committed before it); the account itself
 * is read by the lock.
 */
export async function readAwardFacts(kit: ServiceKit<PointsConfig>, em: EntityManager, input: AwardFactsInput): Promise<AwardFacts> {
  const caps = kit.config.POINTS_DAILY_CAPS;
  const columns = ['EXISTS (SELECT 1 FROM points_award WHERE award_key = ?) AS awarded'];
  const params: unknown[] = [input.key];
  if (caps[input.rule] !== undefined || caps.TOTAL !== undefined) {
    const day = businessDay(input.earnedAt, kit.config.TENANT_TIME_ZONE);
    columns.push(
      '(SELECT COALESCE(SUM(CASE WHEN rule = ? THEN granted ELSE 0 END), 0) FROM points_award WHERE member_id = ? AND business_day = ?) AS rule_used',
      '(SELECT COALESCE(SUM(granted), 0) FROM points_award WHERE member_id = ? AND business_day = ?) AS total_used',
    );
    params.push(input.rule, input.memberId, day, input.memberId, day);
  }
  const velocity = velocityColumns(kit, input);
  if (velocity) {
    columns.push(...velocity.sql);
    params.push(...velocity.params);
  }
  if (input.orderId) {
    columns.push("EXISTS (SELECT 1 FROM points_refund WHERE order_id = ? AND status = 'PARKED') AS parked");
    params.push(input.orderId);
  }
  if (input.profile) {
    columns.push(
      '(SELECT version FROM points_earn_rules WHERE id = ?) AS rules_version',
      '(SELECT tier FROM points_member_tier WHERE member_id = ?) AS tier',
      '(SELECT status FROM points_member_status WHERE member_id = ?) AS status',
    );
    params.push(EARN_RULE_SET, input.memberId, input.memberId);
  }
  const [row] = (await em.query(`SELECT ${columns.join(', ')}`, params)) as [Record<string, string | number | null>];
  return {
    awarded: Number(row.awarded) === 1,
    used: { rule: Number(row.rule_used ?? 0), total: Number(row.total_used ?? 0) },
    velocity: velocity ? velocityFactsOf(row) : null,
    parkedRefunds: Number(row.parked ?? 0) === 1,
    rulesVersion: Number(row.rules_version ?? 0),
    tier: row.tier === null || row.tier === undefined ? 'MEMBER' : String(row.tier),
    status: row.status === null || row.status === undefined ? 'ACTIVE' : String(row.status),
  };
}

/**
 * An earning under the member's daily caps (POINTS_DAILY_CAPS, per rule and TOTAL, in the tenant
 * business day), once per key: what goes over a cap is not granted, and both the award row and the
 * EARN entry's note say what was asked and what was granted. Nothing granted = no entry (the ledger
 * has no zero entries), only the award row. An earning a velocity rule flags is held for review
 * instead (`review`; nothing credited). Call inside the unit of work; locks the account (unless the
 * caller holds it: `locked`).
 */
export async function awardCapped(kit: ServiceKit<PointsConfig>, em: EntityManager, input: AwardInput): Promise<AwardResult> {
  const now = new Date();
  const earnedAt = input.earnedAt ?? now;
  // The account lock serialises this member's awards, so two earnings cannot both fit under a cap.
  const account = input.locked?.account ?? (await lockAccount(em, input.memberId));
  const facts =
    (input.locked && input.locked.facts) ??
    (await readAwardFacts(kit, em, { memberId: input.memberId, rule: input.rule, key: input.key, earnedAt, origin: input.origin, orderId: input.orderId }));
  if (facts.awarded) return { award: await em.getRepository(PointsAwardEntity).findOneByOrFail({ key: input.key }), replayed: true };
  const day = businessDay(earnedAt, kit.config.TENANT_TIME_ZONE);
  const decision = applyDailyCaps(input.requested, input.rule, facts.used, kit.config.POINTS_DAILY_CAPS);
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
      ? await screenEarning(
          kit,
          em,
          {
            key: input.key,
            memberId: input.memberId,
            rule: input.rule,
            reason: input.reason,
            reference: input.reference,
            points: decision.granted,
            earnedAt,
            ...input.origin,
          },
          facts.velocity,
        )
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
      locked: account,
    });
    // Earned before awards were recorded (an older deploy): the ledger's key says it is done.
    if (!entry) return { award, replayed: true };
    award.entryId = entry.id;
  }
  await em.query(
    `INSERT INTO points_award (award_key, member_id, rule, reference, business_day, requested, granted, capped_by, entry_id, lot_expiry_days, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [award.key, award.memberId, award.rule, award.reference, award.businessDay, award.requested, award.granted, award.cappedBy, award.entryId, award.lotExpiryDays, award.createdAt],
  );
  if (decision.cappedBy) kit.log.info({ memberId: input.memberId, rule: input.rule, requested: input.requested, granted: decision.granted, cappedBy: decision.cappedBy }, 'earning capped');
  return { award, replayed: false, review, parkedRefunds: facts.parkedRefunds };
}
