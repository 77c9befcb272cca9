import type { EntityManager } from 'typeorm';
import { audit, badField, notFound, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { MemberConfig } from '../config';
import { MemberEntity, type MemberRow } from '../entities/member.entity';
import { lockMember } from './tier.service';

/** Statuses staff may set; ERASED is reached only through erasure (it destroys the data key). */
const SETTABLE = new Set(['ACTIVE', 'FROZEN', 'BLACKLISTED']);

/**
 * Changes a member's status with a reason: audited and announced as `member.status_changed`
 * (points and wallet stop earning and spending for FROZEN; login refuses FROZEN and BLACKLISTED).
 * Setting the current status again changes nothing and emits nothing.
 */
export async function changeMemberStatus(
  kit: ServiceKit<MemberConfig>,
  em: EntityManager,
  actor: string,
  input: { memberId: string; status: string; reason: string },
): Promise<MemberRow> {
  if (!SETTABLE.has(input.status)) throw badField('status', 'status must be ACTIVE, FROZEN or BLACKLISTED (erasure has its own operation)');
  const reason = input.reason.trim();
  if (reason.length < 1 || reason.length > 500) throw badField('reason', 'reason must be 1-500 characters');
  const member = await lockMember(em, input.memberId);
  if (!member || member.status === 'ERASED') throw notFound('Member');
  if (member.status === input.status) return member;
  const from = member.status;
  await em.getRepository(MemberEntity).update({ id: member.id }, { status: input.status });
  member.status = input.status;
  await audit(em, actor, 'member.status_change', member.id, { from, to: input.status, reason });
  await kit.publish(
    em,
    EventType.MemberStatusChanged,
    member.id,
    checkedData(EventType.MemberStatusChanged, {
      memberId: member.id,
      from: from as 'ACTIVE',
      to: input.status as 'ACTIVE',
      changedAt: new Date().toISOString(),
    }),
  );
  return member;
}
