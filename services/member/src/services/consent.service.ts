import type { EntityManager } from 'typeorm';
import { audit, badField, newId, notFound, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { MemberConfig } from '../config';
import { ConsentEntity, type ConsentRow } from '../entities/consent.entity';
import type { MemberRow } from '../entities/member.entity';
import { consentChanges, consentsProblem, currentConsents, type ConsentDecision } from '../domain/consent';
import { lockMember } from './tier.service';

/** A member's whole consent history, oldest first. */
export function consentHistory(em: EntityManager, memberId: string): Promise<ConsentRow[]> {
  return em.getRepository(ConsentEntity).find({ where: { memberId }, order: { id: 'ASC' } });
}

/** BAD_USER_INPUT naming the consent at fault (`consents.<i>.<field>`), or the checked decisions. */
export function validateConsents(consents: ReadonlyArray<{ purpose: string; channel: string; granted: boolean; policyVersion: string }>): ConsentDecision[] {
  const problem = consentsProblem(consents);
  if (problem) throw badField(problem.index === null ? problem.field : `consents.${problem.index}.${problem.field}`, problem.message);
  return consents as ConsentDecision[];
}

/**
 * Records the decisions that change something (append-only: the history stays) under the member's
 * row lock, so concurrent requests are compared one after the other. Announced as
 * `member.consents_changed` with the changed decisions only; nothing changed, nothing written.
 * Staff (SUPPORT) changes are audited.
 */
export async function updateConsents(
  kit: ServiceKit<MemberConfig>,
  em: EntityManager,
  actor: { sub: string; staff: boolean },
  memberId: string,
  requested: ConsentDecision[],
): Promise<MemberRow> {
  const member = await lockMember(em, memberId);
  if (!member || member.status === 'ERASED') throw notFound('Member');
  const current = currentConsents(await consentHistory(em, memberId));
  const changes = consentChanges(current, requested);
  if (!changes.length) return member;
  const now = new Date();
  await em.getRepository(ConsentEntity).insert(changes.map((c) => ({ id: newId(), memberId, ...c, recordedAt: now, recordedBy: actor.sub })));
  if (actor.staff) await audit(em, actor.sub, 'member.consents_update', memberId, { consents: changes });
  await kit.publish(
    em,
    EventType.MemberConsentsChanged,
    memberId,
    checkedData(EventType.MemberConsentsChanged, { memberId, consents: changes, changedAt: now.toISOString() }),
  );
  return member;
}
