import type { EntityManager } from 'typeorm';
import { forbidden } from '@membergraph/platform';
import { MemberStatusEntity } from '../entities/member-status.entity';
import { mayDebit } from '../domain/member-status';

/** The status this service last heard for the member; ACTIVE when none. */
export async function statusOf(em: EntityManager, memberId: string): Promise<string> {
  return (await em.getRepository(MemberStatusEntity).findOneBy({ memberId }))?.status ?? 'ACTIVE';
}

/** Records the member's status as of `asOf`, unless a newer one is already known (events can arrive out of order). */
export async function projectStatus(em: EntityManager, memberId: string, status: string, asOf: Date): Promise<void> {
  await em.query(
    `INSERT INTO points_member_status (member_id, status, as_of) VALUES (?, ?, ?)
     ON DUPLICATE KEY UPDATE status = IF(VALUES(as_of) >= as_of, VALUES(status), status), as_of = GREATEST(as_of, VALUES(as_of))`,
    [memberId, status.slice(0, 16), asOf],
  );
}

/** FORBIDDEN for a member who may not reserve or give up points now (FROZEN, BLACKLISTED, ERASED). */
export async function assertMayDebit(em: EntityManager, memberId: string): Promise<void> {
  const status = await statusOf(em, memberId);
  if (!mayDebit(status)) throw forbidden(`Member ${memberId} is ${status}: points cannot be held or taken`);
}
