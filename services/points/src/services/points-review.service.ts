import type { EntityManager } from 'typeorm';
import { LessThan } from 'typeorm';
import { audit, badField, conflict, decodeCursor, forbidden, newId, notFound, pageSize, toConnection, type Connection, type ServiceKit } from '@membergraph/platform';
import { velocityLimitsOf, type PointsConfig } from '../config';
import { PointsAwardEntity } from '../entities/points-award.entity';
import { PointsReviewEntity, type PointsReviewRow } from '../entities/points-review.entity';
import { ReviewStatus, assessVelocity, decideReview, type VelocityFacts } from '../domain/fraud';
import { CappedRule } from '../domain/behaviour';
import type { EarnReason } from '../domain/ledger';
import { mayEarn } from '../domain/member-status';
import { earnPoints, lockAccount } from './points-ledger.service';
import { statusOf } from './member-status.service';
import { applyParkedRefunds } from './points-refund.service';

/** Where an earning came from, when the integration says (awardBehaviourPoints). */
export interface EarnOrigin {
  deviceId?: string | null;
  ip?: string | null;
}

export interface ScreenInput extends EarnOrigin {
  key: string;
  memberId: string;
  rule: string;
  reason: EarnReason;
  reference: string | null;
  /** Points the caps let through. */
  points: number;
  earnedAt: Date;
}

/** An origin as the velocity rules compare it: trimmed, empty = not given. */
export function originOf(origin: EarnOrigin | undefined): { deviceId: string | null; ip: string | null } {
  return { deviceId: origin?.deviceId?.trim() || null, ip: origin?.ip?.trim() || null };
}

/**
 * The SELECT columns (with their parameters, in order) that count an earning's velocity windows:
 * the member's earnings and points, and the other members on the same device or IP. Only the rules
 * that can apply are counted (a device or IP not given counts nobody); null when none can, so the
 * caller reads nothing. Read under the member's account lock, so the member's own window is exact.
 */
export function velocityColumns(kit: ServiceKit<PointsConfig>, input: { memberId: string; earnedAt: Date; origin?: EarnOrigin }): { sql: string[]; params: unknown[] } | null {
  const limits = velocityLimitsOf(kit.config);
  const { deviceId, ip } = originOf(input.origin);
  const from = new Date(input.earnedAt.getTime() - limits.windowMs);
  const sql: string[] = [];
  const params: unknown[] = [];
  if (limits.maxEvents > 0 || limits.maxPoints > 0) {
    sql.push(
      '(SELECT COUNT(*) FROM points_earn_signal WHERE member_id = ? AND earned_at > ? AND earned_at <= ?) AS v_events',
      '(SELECT COALESCE(SUM(points), 0) FROM points_earn_signal WHERE member_id = ? AND earned_at > ? AND earned_at <= ?) AS v_points',
    );
    params.push(input.memberId, from, input.earnedAt, input.memberId, from, input.earnedAt);
  }
  if (deviceId && limits.maxMembersPerDevice > 0) {
    sql.push('(SELECT COUNT(DISTINCT member_id) FROM points_earn_signal WHERE device_id = ? AND member_id <> ? AND earned_at > ? AND earned_at <= ?) AS v_device_members');
    params.push(deviceId, input.memberId, from, input.earnedAt);
  }
  if (ip && limits.maxMembersPerIp > 0) {
    sql.push('(SELECT COUNT(DISTINCT member_id) FROM points_earn_signal WHERE ip = ? AND member_id <> ? AND earned_at > ? AND earned_at <= ?) AS v_ip_members');
    params.push(ip, input.memberId, from, input.earnedAt);
  }
  return sql.length ? { sql, params } : null;
}

/** The velocity facts in a row that selected {@link velocityColumns} (a rule not counted reads 0). */
export function velocityFactsOf(row: Record<string, unknown>): VelocityFacts {
  const n = (v: unknown) => Number(v ?? 0);
  return { events: n(row.v_events), points: n(row.v_points), otherMembersOnDevice: n(row.v_device_members), otherMembersOnIp: n(row.v_ip_members) };
}

/**
 * Counts the earning for the velocity rules and decides whether it may be granted: null to grant,
 * else the PENDING review it was put on hold under (nothing credited). `facts` are the windows as
 * read by {@link velocityColumns} under the account lock (null: no rule can apply). The member's
 * window is exact (their account is locked); the device and IP windows span members, so two members
 * earning at the same instant from one device may both get through: a signal, not a guarantee.
 */
export async function screenEarning(kit: ServiceKit<PointsConfig>, em: EntityManager, input: ScreenInput, facts: VelocityFacts | null): Promise<PointsReviewRow | null> {
  const { deviceId, ip } = originOf(input);
  const flag = facts ? assessVelocity(input.points, facts, velocityLimitsOf(kit.config)) : null;
  await em.query('INSERT INTO points_earn_signal (award_key, member_id, points, earned_at, device_id, ip) VALUES (?, ?, ?, ?, ?, ?)', [
    input.key,
    input.memberId,
    input.points,
    input.earnedAt,
    deviceId,
    ip,
  ]);
  if (!flag) return null;
  const review: PointsReviewRow = {
    id: newId(),
    awardKey: input.key,
    memberId: input.memberId,
    rule: input.rule,
    reason: input.reason,
    reference: input.reference,
    points: input.points,
    earnedAt: input.earnedAt,
    flaggedBy: flag.rule,
    detail: flag.detail,
    deviceId,
    ip,
    status: ReviewStatus.PENDING,
    decidedBy: null,
    decidedAt: null,
    note: null,
    entryId: null,
    createdAt: new Date(),
  };
  await em.getRepository(PointsReviewEntity).insert(review);
  kit.log.info({ memberId: input.memberId, key: input.key, rule: flag.rule, detail: flag.detail }, 'earning held for review');
  return review;
}

/** Reviews, newest first, optionally of one status, as a Relay connection. */
export async function reviewsPage(em: EntityManager, args: { status?: string | null; first?: number | null; after?: string | null }): Promise<Connection<PointsReviewRow>> {
  const n = pageSize(args.first);
  const cursor = decodeCursor(args.after);
  const rows = await em.getRepository(PointsReviewEntity).find({
    where: { ...(args.status ? { status: args.status as PointsReviewRow['status'] } : {}), ...(cursor ? { id: LessThan(cursor) } : {}) },
    order: { id: 'DESC' },
    take: n + 1,
  });
  return toConnection(rows, n, (r) => r.id);
}

export interface DecideReviewInput {
  reviewId: string;
  note?: string | null;
}

function checkDecision(input: DecideReviewInput): { reviewId: string; note: string | null } {
  const reviewId = input.reviewId.trim();
  if (!reviewId || reviewId.length > 26) throw badField('reviewId', 'reviewId must be a review id (1-26 characters)');
  const note = input.note?.trim() || null;
  if (note && note.length > 255) throw badField('note', 'note must be at most 255 characters');
  return { reviewId, note };
}

async function lockedReview(em: EntityManager, reviewId: string): Promise<PointsReviewRow> {
  const seen = await em.getRepository(PointsReviewEntity).findOneBy({ id: reviewId });
  if (!seen) throw notFound(`Review ${reviewId}`);
  // The member's account first, like every writer of their points; then the review, re-read under lock.
  await lockAccount(em, seen.memberId);
  return em.getRepository(PointsReviewEntity).createQueryBuilder('r').where('r.id = :id', { id: reviewId }).setLock('pessimistic_write').getOneOrFail();
}

/**
 * Grants a held earning: an EARN entry under the earning's own key (so an order's refunds find it, and
 * the parked ones apply now), with a lot expiring from today. Decided once: approving again returns the
 * review, approving a rejected one is CONFLICT; FORBIDDEN if the member may no longer earn. Audited.
 */
export async function approveReview(kit: ServiceKit<PointsConfig>, em: EntityManager, operator: string, raw: DecideReviewInput): Promise<PointsReviewRow> {
  const { reviewId, note } = checkDecision(raw);
  const review = await lockedReview(em, reviewId);
  const decision = decideReview(review.status, 'APPROVED');
  if (decision === 'replay') return review;
  if (decision === 'conflict') throw conflict(`Review ${reviewId} was already ${review.status}`, { field: 'reviewId', status: review.status });
  const status = await statusOf(em, review.memberId);
  if (!mayEarn(status)) throw forbidden(`Member ${review.memberId} is ${status}: the earning cannot be granted`);
  // A promotion's shorter expiry counts from the approval, when the points become spendable.
  const award = await em.getRepository(PointsAwardEntity).findOneBy({ key: review.awardKey });
  const entry = await earnPoints(kit, em, {
    memberId: review.memberId,
    amount: review.points,
    reason: review.reason as EarnReason,
    reference: review.reference,
    idempotencyKey: review.awardKey,
    note: `REVIEWED ${review.flaggedBy} approved`,
    expiryDays: award?.lotExpiryDays ?? null,
  });
  if (!entry) throw new Error(`earning ${review.awardKey} is in the ledger though its review was pending`);
  const decidedAt = new Date();
  await em.getRepository(PointsAwardEntity).update({ key: review.awardKey }, { entryId: entry.id });
  const decided = { status: ReviewStatus.APPROVED, decidedBy: operator, decidedAt, note, entryId: entry.id };
  await em.getRepository(PointsReviewEntity).update({ id: review.id }, decided);
  if (review.rule === CappedRule.ORDER && review.reference) await applyParkedRefunds(kit, em, review.reference);
  await audit(em, operator, 'points.review.approve', review.memberId, { reviewId, awardKey: review.awardKey, points: review.points, note });
  return { ...review, ...decided };
}

/**
 * Drops a held earning: nothing is credited and its points stop counting towards the day's caps.
 * Decided once (rejecting again returns it; rejecting an approved one is CONFLICT). Audited.
 */
export async function rejectReview(_kit: ServiceKit<PointsConfig>, em: EntityManager, operator: string, raw: DecideReviewInput): Promise<PointsReviewRow> {
  const { reviewId, note } = checkDecision(raw);
  const review = await lockedReview(em, reviewId);
  const decision = decideReview(review.status, 'REJECTED');
  if (decision === 'replay') return review;
  if (decision === 'conflict') throw conflict(`Review ${reviewId} was already ${review.status}`, { field: 'reviewId', status: review.status });
  const decidedAt = new Date();
  await em.getRepository(PointsAwardEntity).update({ key: review.awardKey }, { granted: 0 });
  const decided = { status: ReviewStatus.REJECTED, decidedBy: operator, decidedAt, note };
  await em.getRepository(PointsReviewEntity).update({ id: review.id }, decided);
  await audit(em, operator, 'points.review.reject', review.memberId, { reviewId, awardKey: review.awardKey, points: review.points, note });
  return { ...review, ...decided };
}
