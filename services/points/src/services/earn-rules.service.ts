import type { EntityManager } from 'typeorm';
import { badField, type ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../config';
import { EarnRulesEntity } from '../entities/earn-rules.entity';
import { MemberTierEntity } from '../entities/member-tier.entity';
import { defaultEarnRules, validateEarnRules, type EarnRules } from '../domain/earn';

/** The one rule set for now (a row per brand later). */
export const EARN_RULE_SET = 'default';

export interface EarnRulesView extends EarnRules {
  timeZone: string;
  /** 0 until the rules are first saved (the config's defaults apply). */
  version: number;
  updatedAt: Date | null;
  updatedBy: string | null;
}

/** The rules in force: the saved ones, else the defaults from config. */
export async function currentEarnRules(kit: ServiceKit<PointsConfig>, em: EntityManager): Promise<EarnRulesView> {
  const row = await em.getRepository(EarnRulesEntity).findOneBy({ id: EARN_RULE_SET });
  // Rules saved before store and category rates existed have neither: none applies.
  const saved = row ? (JSON.parse(row.rules) as Omit<EarnRules, 'storeRates' | 'categoryRates'> & Partial<EarnRules>) : null;
  const rules: EarnRules = saved ? { ...saved, storeRates: saved.storeRates ?? [], categoryRates: saved.categoryRates ?? [] } : defaultEarnRules(kit.config.POINTS_PER_YUAN);
  return {
    ...rules,
    timeZone: kit.config.TENANT_TIME_ZONE,
    version: row?.version ?? 0,
    updatedAt: row?.updatedAt ?? null,
    updatedBy: row?.updatedBy ?? null,
  };
}

/** The last rules each service instance read, by its kit (tests run several apps, on their own databases, in one process). */
const rulesCache = new WeakMap<ServiceKit<PointsConfig>, EarnRulesView>();

/**
 * The rules in force when the saved version is `version` (0: none saved), as read in the caller's
 * transaction. Every save increments the version under the row's lock, so a cached copy of the same
 * version is the same rules: never stale, and the JSON is read and parsed again only after a save.
 */
export async function earnRulesAt(kit: ServiceKit<PointsConfig>, em: EntityManager, version: number): Promise<EarnRulesView> {
  const cached = rulesCache.get(kit);
  if (cached && cached.version === version) return cached;
  const rules = await currentEarnRules(kit, em);
  rulesCache.set(kit, rules);
  return rules;
}

/** Rules as a caller sends them: store and category rates may be left out (none). */
export type EarnRulesInput = Omit<EarnRules, 'storeRates' | 'categoryRates'> & {
  storeRates?: EarnRules['storeRates'] | null;
  categoryRates?: EarnRules['categoryRates'] | null;
};

/** Replaces the rules after checking them (BAD_USER_INPUT naming the first bad field, nothing saved). */
export async function updateEarnRules(kit: ServiceKit<PointsConfig>, em: EntityManager, operator: string, input: EarnRulesInput): Promise<EarnRulesView> {
  const rules: EarnRules = {
    basePointsPerYuan: input.basePointsPerYuan,
    tierMultipliers: input.tierMultipliers.map((t) => ({ tier: t.tier, perMille: t.perMille })),
    promotions: input.promotions.map((p) => ({
      code: p.code,
      name: p.name,
      multiplierPerMille: p.multiplierPerMille,
      startsOn: p.startsOn ?? null,
      endsOn: p.endsOn ?? null,
      weekdays: p.weekdays ?? null,
      dayOfMonth: p.dayOfMonth ?? null,
      expiryDays: p.expiryDays ?? null,
    })),
    storeRates: (input.storeRates ?? []).map((r) => ({ storeId: r.storeId, pointsPerYuan: r.pointsPerYuan })),
    categoryRates: (input.categoryRates ?? []).map((r) => ({ category: r.category, perMille: r.perMille })),
  };
  const violations = validateEarnRules(rules);
  if (violations.length) {
    const [first] = violations;
    throw badField(first!.field, `${first!.field} ${first!.message}`, { violations });
  }
  const repo = em.getRepository(EarnRulesEntity);
  // Lock (or create) the row so two concurrent saves count versions one after the other.
  const current = await repo.createQueryBuilder('r').where('r.id = :id', { id: EARN_RULE_SET }).setLock('pessimistic_write').getOne();
  const version = (current?.version ?? 0) + 1;
  const updatedAt = new Date();
  await repo.upsert({ id: EARN_RULE_SET, rules: JSON.stringify(rules), version, updatedBy: operator, updatedAt }, ['id']);
  return { ...rules, timeZone: kit.config.TENANT_TIME_ZONE, version, updatedAt, updatedBy: operator };
}

/** The tier this service last heard for the member; MEMBER (the entry tier) when none yet. */
export async function tierOf(em: EntityManager, memberId: string): Promise<string> {
  return (await em.getRepository(MemberTierEntity).findOneBy({ memberId }))?.tier ?? 'MEMBER';
}

/** Records the member's tier as of `asOf`, unless a newer tier is already known (events can arrive out of order). */
export async function projectTier(em: EntityManager, memberId: string, tier: string, asOf: Date): Promise<void> {
  await em.query(
    `INSERT INTO points_member_tier (member_id, tier, as_of) VALUES (?, ?, ?)
     ON DUPLICATE KEY UPDATE tier = IF(VALUES(as_of) >= as_of, VALUES(tier), tier), as_of = GREATEST(as_of, VALUES(as_of))`,
    [memberId, tier.slice(0, 16), asOf],
  );
}
