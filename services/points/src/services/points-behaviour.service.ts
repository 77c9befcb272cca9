import { isIP } from 'node:net';
import type { EntityManager } from 'typeorm';
import { badField, businessDay, conflict, forbidden, notFound, type ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../config';
import { MemberTierEntity } from '../entities/member-tier.entity';
import { PointsAccountEntity } from '../entities/points-account.entity';
import { PointsAwardEntity, type PointsAwardRow } from '../entities/points-award.entity';
import { PointsReviewEntity } from '../entities/points-review.entity';
import { PointsCheckInEntity, type PointsCheckInRow } from '../entities/points-check-in.entity';
import { CappedRule, checkInPoints, nextStreak } from '../domain/behaviour';
import { EarnReason, idempotencyKeys } from '../domain/ledger';
import { mayEarn } from '../domain/member-status';
import { awardCapped } from './points-award.service';
import { lockAccount } from './points-ledger.service';
import { statusOf } from './member-status.service';

/** Behaviours an integration reports for points. */
export const BehaviourType = { REVIEW: 'REVIEW', SHARE: 'SHARE', PROFILE_COMPLETED: 'PROFILE_COMPLETED' } as const;
export type BehaviourType = (typeof BehaviourType)[keyof typeof BehaviourType];

export interface CheckInResult extends PointsCheckInRow {
  /** True when the member had already checked in today: this is that check-in, nothing new was earned. */
  alreadyCheckedIn: boolean;
}

/**
 * The member's daily check-in: at most one per tenant business day (a second one returns the first,
 * `alreadyCheckedIn`). The streak continues from yesterday's check-in or restarts at 1 after a missed
 * day; the points come from CHECK_IN_LADDER for the streak day, under the daily caps. FORBIDDEN for a
 * member who may not earn (FROZEN, BLACKLISTED, ERASED).
 */
export async function checkIn(kit: ServiceKit<PointsConfig>, em: EntityManager, memberId: string, at = new Date()): Promise<CheckInResult> {
  const day = businessDay(at, kit.config.TENANT_TIME_ZONE);
  // One check-in at a time per member: the account lock serialises a double tap.
  const account = await lockAccount(em, memberId);
  const repo = em.getRepository(PointsCheckInEntity);
  const today = await repo.findOneBy({ memberId, day });
  if (today) return { ...today, alreadyCheckedIn: true };
  const status = await statusOf(em, memberId);
  if (!mayEarn(status)) throw forbidden(`Member ${memberId} is ${status}: no check-in points`);
  const [last] = await repo.find({ where: { memberId }, order: { day: 'DESC' }, take: 1 });
  const streak = nextStreak(last ?? null, day);
  const requested = checkInPoints(streak, kit.config.CHECK_IN_LADDER);
  let granted = 0;
  if (requested > 0) {
    const { award } = await awardCapped(kit, em, {
      memberId,
      rule: CappedRule.CHECK_IN,
      requested,
      reason: EarnReason.CHECK_IN,
      reference: day,
      key: idempotencyKeys.checkIn(memberId, day),
      earnedAt: at,
      locked: { account },
    });
    granted = award.granted;
  }
  const row: PointsCheckInRow = { memberId, day, streak, requested, granted, createdAt: at };
  await repo.insert(row);
  return { ...row, alreadyCheckedIn: false };
}

export interface BehaviourInput {
  memberId: string;
  type: BehaviourType;
  reference: string;
  /** The member's device as the integration knows it, for the velocity rules. */
  deviceId?: string | null;
  /** The member's IP address as the integration saw it. */
  ip?: string | null;
}

export interface BehaviourAward extends PointsAwardRow {
  /** True when this reference had already been awarded: the first award, nothing new. */
  alreadyAwarded: boolean;
  /** The review a velocity rule put this earning under (nothing credited yet); null otherwise. */
  reviewId: string | null;
}

function pointsFor(config: PointsConfig, type: BehaviourType): number {
  return type === BehaviourType.REVIEW ? config.REVIEW_POINTS : type === BehaviourType.SHARE ? config.SHARE_POINTS : config.PROFILE_COMPLETED_POINTS;
}

/**
 * A review, share or profile completion reported by an integration: the configured points under the
 * daily caps, once per (type, reference), or once per member for PROFILE_COMPLETED (whoever reports
 * it first, this or `member.profile_completed`). The same reference for another member is CONFLICT;
 * NOT_FOUND for a member this service never heard of; FORBIDDEN for a member who may not earn.
 */
export async function awardBehaviourPoints(kit: ServiceKit<PointsConfig>, em: EntityManager, raw: BehaviourInput): Promise<BehaviourAward> {
  const memberId = raw.memberId.trim();
  if (!memberId || memberId.length > 26) throw badField('memberId', 'memberId must be a member id (1-26 characters)');
  if (!Object.values(BehaviourType).includes(raw.type)) throw badField('type', 'type must be REVIEW, SHARE or PROFILE_COMPLETED');
  const reference = raw.reference.trim();
  if (!reference || reference.length > 100) throw badField('reference', 'reference must be 1-100 characters');
  const key = raw.type === BehaviourType.PROFILE_COMPLETED ? idempotencyKeys.profile(memberId) : idempotencyKeys.behaviour(raw.type, reference);
  const first = await em.getRepository(PointsAwardEntity).findOneBy({ key });
  if (first) {
    if (first.memberId !== memberId) throw conflict(`reference ${reference} was already awarded to another member`, { field: 'reference' });
    const held = await em.getRepository(PointsReviewEntity).findOneBy({ awardKey: key });
    return { ...first, alreadyAwarded: true, reviewId: held?.id ?? null };
  }
  const deviceId = raw.deviceId?.trim() || null;
  if (deviceId && deviceId.length > 64) throw badField('deviceId', 'deviceId must be at most 64 characters');
  const ip = raw.ip?.trim() || null;
  if (ip && (ip.length > 45 || !isIP(ip))) throw badField('ip', 'ip must be an IPv4 or IPv6 address');
  const known =
    (await em.getRepository(PointsAccountEntity).existsBy({ memberId })) || (await em.getRepository(MemberTierEntity).existsBy({ memberId }));
  if (!known) throw notFound(`Member ${memberId}`);
  const status = await statusOf(em, memberId);
  if (!mayEarn(status)) throw forbidden(`Member ${memberId} is ${status}: no behaviour points`);
  const { award, replayed, review } = await awardCapped(kit, em, {
    memberId,
    rule: raw.type,
    requested: pointsFor(kit.config, raw.type),
    reason: EarnReason[raw.type],
    reference,
    key,
    origin: { deviceId, ip },
  });
  // A concurrent report of the same reference won the race under the account lock.
  if (replayed && award.memberId !== memberId) throw conflict(`reference ${reference} was already awarded to another member`, { field: 'reference' });
  return { ...award, alreadyAwarded: replayed, reviewId: review?.id ?? null };
}

/** `member.profile_completed`: the profile points once per member; null for a member who may not earn. */
export async function awardProfileCompleted(kit: ServiceKit<PointsConfig>, em: EntityManager, memberId: string, reference: string, at: Date): Promise<PointsAwardRow | null> {
  if (!mayEarn(await statusOf(em, memberId))) return null;
  const requested = kit.config.PROFILE_COMPLETED_POINTS;
  if (requested === 0) return null;
  const { award } = await awardCapped(kit, em, {
    memberId,
    rule: CappedRule.PROFILE_COMPLETED,
    requested,
    reason: EarnReason.PROFILE_COMPLETED,
    reference,
    key: idempotencyKeys.profile(memberId),
    earnedAt: at,
  });
  return award;
}
