import { In, type DataSource, type EntityManager } from 'typeorm';
import { audit, badField, newId, notFound, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { MemberConfig } from '../config';
import { MemberEntity, type MemberRow } from '../entities/member.entity';
import { OrderEntity } from '../entities/order.entity';
import { TierEntity } from '../entities/tier.entity';
import { TierEvaluationEntity } from '../entities/tier-evaluation.entity';
import { TierChangeEntity } from '../entities/tier-change.entity';
import {
  entryTier,
  evaluate,
  ladderProblem,
  tierFor,
  windowStart,
  type Standing,
  type TierLevel,
  type TierLevelInput,
  type TierPolicy,
} from '../domain/tiers';

type Kit = ServiceKit<MemberConfig>;

/** The ladder, lowest rank first. */
export function loadLadder(em: EntityManager): Promise<TierLevel[]> {
  return em.getRepository(TierEntity).find({ order: { rank: 'ASC' } });
}

/**
 * The ladder as registrations, imports and `Member.tier` read it: from the database at most once per
 * `ttlMs`, so the hot paths do not pay a round trip for a table that changes a few times a year.
 * `updateTierLadder` here empties it at once; another replica's change is seen within `ttlMs`
 * (until then a registration there may still get the previous entry tier, as one racing the
 * change could before). Jobs and tier moves read the table itself.
 */
export class LadderCache {
  private cached: { at: number; ladder: Promise<TierLevel[]> } | null = null;

  constructor(
    private readonly db: { readonly ds: DataSource },
    private readonly ttlMs = 1000,
  ) {}

  ladder(): Promise<TierLevel[]> {
    if (!this.cached || Date.now() - this.cached.at > this.ttlMs) {
      const ladder = loadLadder(this.db.ds.manager);
      const entry = (this.cached = { at: Date.now(), ladder });
      // A failed read is not cached.
      ladder.catch(() => {
        if (this.cached === entry) this.cached = null;
      });
    }
    return this.cached.ladder;
  }

  /** The tier new members start on. */
  async entry(): Promise<TierLevel> {
    return entryTier(await this.ladder());
  }

  /** A tier by code; a code the cached ladder lacks (added since, elsewhere) is read again once. */
  async tier(code: string): Promise<TierLevel | null> {
    const find = (ladder: TierLevel[]) => ladder.find((t) => t.code === code) ?? null;
    const hit = find(await this.ladder());
    if (hit) return hit;
    this.invalidate();
    return find(await this.ladder());
  }

  invalidate(): void {
    this.cached = null;
  }
}

export const tierPolicy = (kit: Kit): TierPolicy => ({ protectionDays: kit.config.TIER_PROTECTION_DAYS });

/**
 * Net spend and growth of each member over the rolling window ending at `asOf`: orders completed
 * in (asOf - window, asOf], less what their refunds took back (refunds count against the order's
 * own time, so refunding an old order does not eat into this year).
 */
export async function standings(kit: Kit, em: EntityManager, memberIds: readonly string[], asOf: Date): Promise<Map<string, Standing>> {
  const out = new Map<string, Standing>(memberIds.map((id) => [id, { annualSpend: 0, growth: 0 }]));
  if (!memberIds.length) return out;
  const rows: Array<{ memberId: string; spend: string | null; growth: string | null }> = await em
    .getRepository(OrderEntity)
    .createQueryBuilder('o')
    .select('o.memberId', 'memberId')
    .addSelect('SUM(o.amount - o.refundedAmount)', 'spend')
    .addSelect('SUM(o.growth)', 'growth')
    .where('o.memberId IN (:...ids)', { ids: [...memberIds] })
    .andWhere('o.completedAt > :from AND o.completedAt <= :to', { from: windowStart(asOf, kit.config.TIER_WINDOW_MONTHS), to: asOf })
    .groupBy('o.memberId')
    .getRawMany();
  for (const r of rows) out.set(r.memberId, { annualSpend: Number(r.spend ?? 0), growth: Number(r.growth ?? 0) });
  return out;
}

/** The member row locked FOR UPDATE until the transaction ends, or null. */
export function lockMember(em: EntityManager, id: string): Promise<MemberRow | null> {
  return em.getRepository(MemberEntity).createQueryBuilder('m').where('m.id = :id', { id }).setLock('pessimistic_write').getOne();
}

type TierChangeReason = 'UPGRADE' | 'DOWNGRADE' | 'MANUAL';

/** Moves a (locked) member to `to` and announces it; the protection period restarts when the member moves up. */
async function moveTier(kit: Kit, em: EntityManager, member: MemberRow, from: TierLevel | undefined, to: TierLevel, reason: TierChangeReason, at: Date) {
  const up = !from || to.rank > from.rank;
  const patch: Partial<MemberRow> = { tierCode: to.code, tierChangedAt: at, ...(up ? { tierUpgradedAt: at } : {}) };
  await em.getRepository(MemberEntity).update({ id: member.id }, patch);
  await em.getRepository(TierChangeEntity).insert({ id: newId(), memberId: member.id, fromTier: from?.code ?? member.tierCode, toTier: to.code, reason, changedAt: at });
  Object.assign(member, patch);
  await kit.publish(
    em,
    EventType.MemberTierChanged,
    member.id,
    checkedData(EventType.MemberTierChanged, { memberId: member.id, from: from?.code ?? member.tierCode, to: to.code, reason, changedAt: at.toISOString() }),
  );
}

/**
 * Upgrades a member whose rolling standing now earns a higher tier, in the caller's transaction
 * (the one recording the order). `member` must be locked. Never moves anyone down.
 */
export async function upgradeIfEarned(kit: Kit, em: EntityManager, member: MemberRow, asOf: Date): Promise<void> {
  const ladder = await loadLadder(em);
  const current = ladder.find((l) => l.code === member.tierCode);
  const standing = (await standings(kit, em, [member.id], asOf)).get(member.id)!;
  const earned = tierFor(standing.annualSpend, standing.growth, ladder);
  if (current && earned.rank <= current.rank) return;
  await moveTier(kit, em, member, current, earned, 'UPGRADE', new Date());
}

const reasonOf = (reason: string) => {
  const r = reason.trim();
  if (r.length < 1 || r.length > 500) throw badField('reason', 'reason must be 1-500 characters');
  return r;
};

/** A manual tier change by staff: reason required, audited, emitted as MANUAL. Same tier: nothing changes. */
export async function setMemberTier(kit: Kit, em: EntityManager, actor: string, input: { memberId: string; tier: string; reason: string }): Promise<MemberRow> {
  const reason = reasonOf(input.reason);
  const ladder = await loadLadder(em);
  const to = ladder.find((l) => l.code === input.tier);
  if (!to) throw badField('tier', `no tier ${input.tier} on the ladder (${ladder.map((l) => l.code).join(', ')})`);
  const member = await lockMember(em, input.memberId);
  if (!member || member.status === 'ERASED') throw notFound('Member');
  if (member.tierCode === to.code) return member;
  const from = ladder.find((l) => l.code === member.tierCode);
  await moveTier(kit, em, member, from, to, 'MANUAL', new Date());
  await audit(em, actor, 'member.tier_set', member.id, { from: from?.code ?? null, to: to.code, reason });
  return member;
}

/** Replaces the ladder (ADMIN): validated as a whole, refused if it drops a tier members hold. */
export async function updateTierLadder(em: EntityManager, actor: string, tiers: TierLevelInput[]): Promise<TierLevel[]> {
  const problem = ladderProblem(tiers);
  if (problem) throw badField(problem.field, problem.message);
  const next = tiers.map((t) => ({ ...t, name: t.name.trim() }));
  const repo = em.getRepository(TierEntity);
  // Lock the ladder rows so concurrent replacements (and the held-tier check) are serialised.
  const before = await repo.createQueryBuilder('t').setLock('pessimistic_write').orderBy('t.rank', 'ASC').getMany();
  const dropped = before.map((t) => t.code).filter((c) => !next.some((t) => t.code === c));
  if (dropped.length) {
    const held: Array<{ tierCode: string }> = await em
      .getRepository(MemberEntity)
      .createQueryBuilder('m')
      .select('DISTINCT m.tierCode', 'tierCode')
      .where('m.tierCode IN (:...dropped)', { dropped })
      .getRawMany();
    if (held.length) throw badField('tiers', `members hold ${held.map((h) => h.tierCode).join(', ')}: move them before removing the tier`);
  }
  // Ranks are UNIQUE: clear first, then insert the whole ladder.
  if (before.length) await repo.delete({ code: In(before.map((t) => t.code)) });
  await repo.insert(next);
  await audit(em, actor, 'tier.ladder_update', 'tier', { before, after: next });
  return next;
}

/** The evaluation day of an instant (UTC date). */
export const evalDateOf = (asOf: Date) => asOf.toISOString().slice(0, 10);

export type MemberEvaluation = 'ALREADY_EVALUATED' | 'DOWNGRADE' | 'QUALIFIES' | 'PROTECTED' | 'CHANGED_AFTER' | 'UNKNOWN_TIER' | 'GONE';

/**
 * Evaluates one member for the day of `asOf` in the caller's transaction: claims (member, day) first,
 * so a second run of the day (or a concurrent one, which waits on the claim) does nothing.
 */
export async function evaluateMember(kit: Kit, em: EntityManager, memberId: string, ladder: TierLevel[], asOf: Date): Promise<MemberEvaluation> {
  const member = await lockMember(em, memberId);
  if (!member || member.status === 'ERASED') return 'GONE';
  const evalDate = evalDateOf(asOf);
  const claimed = await em
    .getRepository(TierEvaluationEntity)
    .createQueryBuilder()
    .insert()
    .values({ memberId, evalDate, asOf, fromTier: member.tierCode, toTier: member.tierCode, outcome: 'PENDING', evaluatedAt: new Date() })
    .orIgnore()
    .execute();
  if (!claimed.raw?.affectedRows) return 'ALREADY_EVALUATED';
  const standing = (await standings(kit, em, [memberId], asOf)).get(memberId)!;
  const outcome = evaluate({ ...member, ...standing }, ladder, asOf, tierPolicy(kit));
  if (outcome.action === 'DOWNGRADE') await moveTier(kit, em, member, outcome.from, outcome.to, 'DOWNGRADE', new Date());
  const result = outcome.action === 'DOWNGRADE' ? 'DOWNGRADE' : outcome.reason;
  await em.getRepository(TierEvaluationEntity).update({ memberId, evalDate }, { toTier: member.tierCode, outcome: result });
  return result;
}

/** Ids of members above the entry tier (the only ones an evaluation can move), after `afterId`, in id order. */
export async function membersAboveEntry(em: EntityManager, ladder: TierLevel[], afterId: string, limit: number): Promise<string[]> {
  const codes = ladder.slice(1).map((l) => l.code);
  const entry = ladder[0]?.code;
  // Members on a tier no longer on the ladder are left alone (evaluate() would keep them anyway).
  if (!codes.length) return [];
  const rows = await em
    .getRepository(MemberEntity)
    .createQueryBuilder('m')
    .select('m.id', 'id')
    .where('m.tierCode IN (:...codes)', { codes })
    .andWhere('m.tierCode <> :entry', { entry })
    .andWhere("m.status <> 'ERASED'")
    .andWhere('m.id > :afterId', { afterId })
    .orderBy('m.id', 'ASC')
    .limit(limit)
    .getRawMany<{ id: string }>();
  return rows.map((r) => r.id);
}
