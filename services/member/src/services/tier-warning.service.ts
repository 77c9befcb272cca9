import { In, type EntityManager } from 'typeorm';
import type { ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { MemberConfig } from '../config';
import { MemberEntity, type MemberRow } from '../entities/member.entity';
import { TierDowngradeWarningEntity } from '../entities/tier-downgrade-warning.entity';
import { evaluate, type TierLevel, type TierPolicy } from '../domain/tiers';
import { standings } from './tier.service';

type Kit = ServiceKit<MemberConfig>;

/** One evaluation the warnings are about. */
export interface UpcomingEvaluation {
  runId: string;
  /** Business day of the evaluation (tenant time zone). */
  evaluationDate: string;
  /** The instant it evaluates as of. */
  evaluationAt: Date;
}

export interface DowngradeWarning {
  memberId: string;
  fromTier: string;
  projectedTier: string;
}

/** A page of members on tier `tierCode` after `afterId`, in id order (the (tier_code, id) index, no sort). */
export function membersOnTier(em: EntityManager, tierCode: string, afterId: string, limit: number): Promise<MemberRow[]> {
  return em
    .getRepository(MemberEntity)
    .createQueryBuilder('m')
    .select(['m.id', 'm.tierCode', 'm.tierUpgradedAt', 'm.tierChangedAt'])
    .where('m.tierCode = :tierCode', { tierCode })
    .andWhere("m.status <> 'ERASED'")
    .andWhere('m.id > :afterId', { afterId })
    .orderBy('m.id', 'ASC')
    .limit(limit)
    .getMany();
}

/** Which of `memberIds` were already warned about this evaluation. */
export async function alreadyWarned(em: EntityManager, evaluationDate: string, memberIds: string[]): Promise<Set<string>> {
  if (!memberIds.length) return new Set();
  const rows = await em.getRepository(TierDowngradeWarningEntity).find({ select: { memberId: true }, where: { evaluationDate, memberId: In(memberIds) } });
  return new Set(rows.map((r) => r.memberId));
}

/**
 * The evaluation of `evaluation.evaluationAt` projected for `members` with what they have earned so
 * far: the same `evaluate` rule (protection period included) on the rolling window ending then, so
 * orders that leave the window by that day no longer count. Members it would move down, and where to.
 */
export async function projectDowngrades(kit: Kit, em: EntityManager, members: MemberRow[], ladder: TierLevel[], policy: TierPolicy, evaluationAt: Date): Promise<DowngradeWarning[]> {
  const standing = await standings(kit, em, members.map((m) => m.id), evaluationAt);
  return members.flatMap((m) => {
    const outcome = evaluate({ ...m, ...standing.get(m.id)! }, ladder, evaluationAt, policy);
    return outcome.action === 'DOWNGRADE' ? [{ memberId: m.id, fromTier: outcome.from.code, projectedTier: outcome.to.code }] : [];
  });
}

/**
 * Claims (member, evaluation day) for each warning in the caller's transaction and emits
 * `member.tier_downgrade_warning` for the rows this run claimed, so a member is warned once per
 * evaluation however many runs (or replicas) see them. Returns how many were warned.
 */
export async function warnDowngrades(kit: Kit, em: EntityManager, evaluation: UpcomingEvaluation, warnings: DowngradeWarning[]): Promise<number> {
  if (!warnings.length) return 0;
  const warnedAt = new Date();
  const repo = em.getRepository(TierDowngradeWarningEntity);
  await repo
    .createQueryBuilder()
    .insert()
    .values(warnings.map((w) => ({ ...w, evaluationDate: evaluation.evaluationDate, evaluationAt: evaluation.evaluationAt, runId: evaluation.runId, warnedAt })))
    .orIgnore()
    .execute();
  const claimed = await repo.find({ where: { runId: evaluation.runId, evaluationDate: evaluation.evaluationDate, memberId: In(warnings.map((w) => w.memberId)) }, order: { memberId: 'ASC' } });
  if (!claimed.length) return 0;
  await kit.publishMany(
    em,
    claimed.map((c) => ({
      type: EventType.MemberTierDowngradeWarning,
      subject: c.memberId,
      data: checkedData(EventType.MemberTierDowngradeWarning, {
        memberId: c.memberId,
        currentTier: c.fromTier,
        projectedTier: c.projectedTier,
        evaluationAt: evaluation.evaluationAt.toISOString(),
        warnedAt: warnedAt.toISOString(),
      }),
    })),
  );
  return claimed.length;
}
