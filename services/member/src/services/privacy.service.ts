import DataLoader from 'dataloader';
import { LessThan, type DataSource, type EntityManager } from 'typeorm';
import { AuditEntryEntity, newId, notFound, type AuditEntryRow } from '@membergraph/platform';
import { MemberEntity } from '../entities/member.entity';
import { OrderEntity } from '../entities/order.entity';
import { RefundEntity } from '../entities/refund.entity';
import { TierChangeEntity } from '../entities/tier-change.entity';
import { maskAuditDetail } from '../domain/audit-detail';
import { consentHistory } from './consent.service';
import type { PiiVault } from './pii.service';
import { identitiesOf, presentIdentities } from './identity.service';

/** The newest audit entries an export carries (the rest stay reachable through auditLog by staff). */
const MAX_EXPORT_AUDIT = 10_000;

/** Audit entries of one member's record, newest first, `limit` after the cursor id; details masked. */
export async function auditEntries(em: EntityManager, memberId: string, limit: number, beforeId?: string): Promise<AuditEntryRow[]> {
  const rows = await em.getRepository(AuditEntryEntity).find({
    where: { target: memberId, ...(beforeId ? { id: LessThan(beforeId) } : {}) },
    order: { id: 'DESC' },
    take: limit,
  });
  return rows.map((r) => ({ ...r, detail: maskAuditDetail(r.detail) }));
}

/**
 * Everything held about a member, for the member (right of access): profile in clear, every consent
 * decision, order, refund and tier move, bound social identities, and the audit trail of their record. Read in one
 * REPEATABLE READ snapshot by the caller so the parts agree with each other.
 */
export async function exportMemberData(em: EntityManager, vault: PiiVault, memberId: string) {
  const member = await em.getRepository(MemberEntity).findOneBy({ id: memberId });
  if (!member) throw notFound('Member');
  const pii = vault.open(member);
  // One after another: a transaction has one connection.
  const consents = await consentHistory(em, memberId);
  const orders = await em.getRepository(OrderEntity).find({ where: { memberId }, order: { id: 'DESC' } });
  const refunds = await em.getRepository(RefundEntity).find({ where: { memberId }, order: { id: 'DESC' } });
  const tierHistory = await em.getRepository(TierChangeEntity).find({ where: { memberId }, order: { id: 'ASC' } });
  const auditLog = await auditEntries(em, memberId, MAX_EXPORT_AUDIT);
  const identities = presentIdentities(vault, member, (await identitiesOf(em, [memberId])).get(memberId) ?? [], true);
  return {
    exportedAt: new Date(),
    profile: {
      id: member.id,
      phone: pii.phone,
      name: pii.name,
      email: pii.email ?? null,
      birthday: pii.birthday ?? null,
      gender: pii.gender ?? null,
      channel: member.channel,
      status: member.status,
      tier: member.tierCode,
      registeredAt: member.registeredAt,
      profileCompletedAt: member.profileCompletedAt,
      emailVerifiedAt: member.emailVerifiedAt,
      referralCode: member.referralCode,
    },
    consents,
    orders,
    refunds,
    tierHistory,
    identities,
    auditLog,
  };
}

/**
 * Audits staff reads of members' PII in clear: one `member.pii_read` row per request, reader and
 * member however many fields or members the request reads (a request's reads are written in one
 * INSERT, and the field resolvers wait for it, so no clear value leaves without its audit row).
 */
export function piiReadAuditor(ds: DataSource): (actor: string, memberId: string, requestId: string) => Promise<true> {
  const loader = new DataLoader<string, true>(async (keys) => {
    const at = new Date();
    const rows = keys.map((k) => {
      const [actor, target, requestId] = k.split('\u0000') as [string, string, string];
      return { id: newId(), actor, action: 'member.pii_read', target, detail: JSON.stringify({ requestId }), at };
    });
    await ds.getRepository(AuditEntryEntity).insert(rows);
    return keys.map(() => true as const);
  });
  return (actor, memberId, requestId) => loader.load(`${actor}\u0000${memberId}\u0000${requestId}`);
}
