import { In, type EntityManager } from 'typeorm';
import { audit, badField, notFound, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { MemberConfig } from '../config';
import { MemberEntity, type MemberRow } from '../entities/member.entity';
import { MemberTagEntity, type MemberTagRow } from '../entities/member-tag.entity';
import { normalizeTag, tagDiff } from '../domain/tags';
import { lockMember } from './tier.service';

/** The tags of members, by member id, MANUAL before RULE, then by name. */
export async function tagsOf(em: EntityManager, memberIds: readonly string[]): Promise<Map<string, MemberTagRow[]>> {
  const out = new Map<string, MemberTagRow[]>(memberIds.map((id) => [id, []]));
  if (!memberIds.length) return out;
  const rows = await em.getRepository(MemberTagEntity).find({ where: { memberId: In([...memberIds]) }, order: { source: 'ASC', name: 'ASC' } });
  for (const r of rows) out.get(r.memberId)?.push(r);
  return out;
}

/** Every tag in use with the number of members carrying it, by name and source. */
export async function tagSummary(em: EntityManager): Promise<Array<{ name: string; source: string; members: number }>> {
  const rows: Array<{ name: string; source: string; members: string }> = await em
    .getRepository(MemberTagEntity)
    .createQueryBuilder('t')
    .select('t.name', 'name')
    .addSelect('t.source', 'source')
    .addSelect('COUNT(*)', 'members')
    .groupBy('t.name')
    .addGroupBy('t.source')
    .orderBy('t.name', 'ASC')
    .addOrderBy('t.source', 'ASC')
    .limit(1000)
    .getRawMany();
  return rows.map((r) => ({ name: r.name, source: r.source, members: Number(r.members) }));
}

export function validTag(input: string): string {
  const tag = normalizeTag(input);
  if (!tag) throw badField('tag', 'tag must be 1-32 letters, digits, _ or -');
  return tag;
}

/**
 * Adds (`on`) or removes a MANUAL tag under the member's row lock: audited, and announced as
 * `member.tags_changed` with the member's complete MANUAL set. No change, nothing written.
 */
export async function setManualTag(kit: ServiceKit<MemberConfig>, em: EntityManager, actor: string, memberId: string, tag: string, on: boolean): Promise<MemberRow> {
  const member = await lockMember(em, memberId);
  if (!member || member.status === 'ERASED') throw notFound('Member');
  const repo = em.getRepository(MemberTagEntity);
  const manual = (await repo.find({ where: { memberId, source: 'MANUAL' } })).map((t) => t.name);
  if (manual.includes(tag) === on) return member;
  const now = new Date();
  if (on) await repo.insert({ memberId, source: 'MANUAL', name: tag, taggedAt: now, taggedBy: actor });
  else await repo.delete({ memberId, source: 'MANUAL', name: tag });
  await audit(em, actor, on ? 'member.tag' : 'member.untag', memberId, { tag });
  const tags = on ? [...manual, tag].sort() : manual.filter((t) => t !== tag).sort();
  await kit.publish(em, EventType.MemberTagsChanged, memberId, checkedData(EventType.MemberTagsChanged, { memberId, source: 'MANUAL', tags, changedAt: now.toISOString() }));
  return member;
}

/**
 * Applies analytics' complete RULE tag set: tags that are new get `changedAt` as their time, kept
 * ones keep theirs, missing ones go. A set older than the last one applied (a late redelivery) and
 * sets for erased or unknown members are ignored. Invalid names are skipped, not fatal.
 */
export async function applyRuleTags(em: EntityManager, producer: string, data: { memberId: string; tags: string[]; changedAt: string }): Promise<'APPLIED' | 'STALE' | 'GONE'> {
  const member = await lockMember(em, data.memberId);
  if (!member || member.status === 'ERASED') return 'GONE';
  const at = new Date(data.changedAt);
  if (member.ruleTagsAt && member.ruleTagsAt.getTime() >= at.getTime()) return 'STALE';
  const repo = em.getRepository(MemberTagEntity);
  const current = (await repo.find({ where: { memberId: member.id, source: 'RULE' } })).map((t) => t.name);
  const wanted = data.tags.map(normalizeTag).filter((t): t is string => t !== null);
  const { add, remove } = tagDiff(current, wanted);
  if (remove.length) await repo.delete({ memberId: member.id, source: 'RULE', name: In(remove) });
  if (add.length) await repo.insert(add.map((name) => ({ memberId: member.id, source: 'RULE', name, taggedAt: at, taggedBy: producer })));
  await em.getRepository(MemberEntity).update({ id: member.id }, { ruleTagsAt: at });
  return 'APPLIED';
}
