import type { EntityManager } from 'typeorm';
import { MemberTierEntity } from '../entities/member-tier.entity';
import { lockAccount } from './points-ledger.service';
import { projectStatus } from './member-status.service';

/**
 * `member.erased`: the account keeps its totals, ledger and lots (the audit and finance need them; they
 * hold ids and amounts, no PII) and is marked erased; the tier projection is dropped, the status is
 * ERASED for good (whatever a late status event says), and the devices and IP addresses the velocity
 * rules kept are cleared. Running it again changes nothing more.
 */
export async function erasePointsAccount(em: EntityManager, memberId: string, erasedAt: Date): Promise<void> {
  await lockAccount(em, memberId);
  await em.query('UPDATE points_account SET erased_at = COALESCE(erased_at, ?) WHERE member_id = ?', [erasedAt, memberId]);
  await em.getRepository(MemberTierEntity).delete({ memberId });
  // ERASED is final: a far-future as_of keeps any late status change from overwriting it.
  await projectStatus(em, memberId, 'ERASED', new Date('9999-12-31T00:00:00Z'));
  await em.query('UPDATE points_earn_signal SET device_id = NULL, ip = NULL WHERE member_id = ? AND (device_id IS NOT NULL OR ip IS NOT NULL)', [memberId]);
  await em.query('UPDATE points_review SET device_id = NULL, ip = NULL WHERE member_id = ? AND (device_id IS NOT NULL OR ip IS NOT NULL)', [memberId]);
}
