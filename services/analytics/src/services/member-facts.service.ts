import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { lockOrCreate } from '@membergraph/platform';
import { MemberFactEntity, type MemberFactRow } from '../entities/member-fact.entity';
import { emptyFacts, type MemberFacts } from '../domain/facts';

/**
 * Applies `step` to a member's facts inside the caller's transaction. The row is created empty if
 * missing and locked, so concurrent events of one member queue up on it instead of racing.
 */
export async function updateMemberFacts(
  em: EntityManager,
  memberId: string,
  step: (facts: MemberFacts) => MemberFacts,
  now = new Date(),
): Promise<MemberFacts> {
  const current = await lockOrCreate(em, MemberFactEntity, { ...emptyFacts(memberId), updatedAt: now });
  const { updatedAt: _, ...facts } = current;
  const next = step(facts);
  await em.getRepository(MemberFactEntity).update({ memberId }, { ...next, updatedAt: now });
  return next;
}

/** Facts by member id, in the order asked (null where nothing is known): the batch function of the facts loader. */
export async function factsByMemberIds(em: EntityManager, ids: readonly string[]): Promise<Array<MemberFactRow | null>> {
  const rows = await em.getRepository(MemberFactEntity).findBy({ memberId: In([...ids]) });
  const byId = new Map(rows.map((r) => [r.memberId, r]));
  return ids.map((id) => byId.get(id) ?? null);
}
