import { IsNull, Not, type EntityManager } from 'typeorm';
import { Role, badField, forbidden, isAllowed, type Permission, type Principal, type ServiceKit } from '@membergraph/platform';
import { MemberEntity, type MemberRow } from '../entities/member.entity';
import { normalizePhone } from '../domain/phone';
import { normalizeTag } from '../domain/tags';
import type { PiiVault } from './pii.service';
import { hydrate } from './sql';

export interface MemberFilter {
  phone?: string | null;
  name?: string | null;
  tier?: string | null;
  status?: string | null;
  tag?: string | null;
  registeredFrom?: Date | null;
  registeredTo?: Date | null;
}

/** Finding members by phone or name is a lookup of a person: not for ANALYST or FINANCE, who see PII masked. */
export const LOOKUP_BY_PII: Permission = { roles: [Role.SUPPORT, Role.OPERATOR], scopes: ['members:read'] };

/** Refuses a phone or name filter to callers who may not look people up (the rest of the filter is STAFF_READ's). */
export function authorizeSearch(principal: Principal, filter: MemberFilter): void {
  if ((filter.phone != null || filter.name != null) && !isAllowed(principal, LOOKUP_BY_PII)) {
    throw forbidden('Finding members by phone or name needs SUPPORT, OPERATOR or members:read');
  }
}

/**
 * Members matching every condition of `filter`, newest first (id DESC), `limit` rows after the
 * cursor id. Phone and name go through their blind indexes (exact match only: the clear values
 * exist nowhere in the database); tier, status and dates are plain indexed columns. The SQL is
 * written out (sql.ts): a lookup by phone is the hottest read of the platform.
 */
export async function searchMembers(em: EntityManager, vault: PiiVault, filter: MemberFilter, limit: number, beforeId?: string): Promise<MemberRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const and = (condition: string, value: unknown) => {
    where.push(condition);
    params.push(value);
  };
  if (filter.phone !== undefined && filter.phone !== null) {
    const phone = normalizePhone(filter.phone);
    if (!phone) throw badField('filter.phone', 'phone is not a valid phone number');
    and('m.phone_index = ?', vault.phoneIndex(phone));
  }
  if (filter.name !== undefined && filter.name !== null) {
    const name = filter.name.trim();
    if (name.length < 1 || name.length > 64) throw badField('filter.name', 'name must be 1 to 64 characters');
    and('m.name_index = ?', vault.nameIndex(name));
  }
  if (filter.tier !== undefined && filter.tier !== null) {
    if (!/^[A-Z][A-Z0-9_]{0,19}$/.test(filter.tier)) throw badField('filter.tier', 'tier must be a tier code such as SILVER');
    and('m.tier_code = ?', filter.tier);
  }
  if (filter.tag !== undefined && filter.tag !== null) {
    const tag = normalizeTag(filter.tag);
    if (!tag) throw badField('filter.tag', 'tag must be 1-32 letters, digits, _ or -');
    and('EXISTS (SELECT 1 FROM member_tag t WHERE t.member_id = m.id AND t.name = ?)', tag);
  }
  if (filter.status) and('m.status = ?', filter.status);
  if (filter.registeredFrom && filter.registeredTo && filter.registeredFrom.getTime() > filter.registeredTo.getTime()) {
    throw badField('filter.registeredTo', 'registeredTo must not be before registeredFrom');
  }
  if (filter.registeredFrom) and('m.registered_at >= ?', filter.registeredFrom);
  if (filter.registeredTo) and('m.registered_at < ?', filter.registeredTo);
  if (beforeId) and('m.id < ?', beforeId);
  const raw = await em.query(`SELECT m.* FROM member m${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY m.id DESC LIMIT ?`, [...params, limit]);
  return hydrate(em, MemberEntity, raw);
}

/**
 * Fills the name blind index of members registered before it existed (decrypting each name once);
 * run at start, idempotent, in batches. Erased members have no name to index.
 */
export async function backfillNameIndex(kit: ServiceKit, vault: PiiVault, batch = 500): Promise<number> {
  let done = 0;
  for (;;) {
    const rows = await kit.ds.getRepository(MemberEntity).find({ where: { nameIndex: IsNull(), status: Not('ERASED') }, take: batch, order: { id: 'ASC' } });
    if (!rows.length) return done;
    await kit.uow(async (em) => {
      for (const row of rows) await em.getRepository(MemberEntity).update({ id: row.id, nameIndex: IsNull() }, { nameIndex: vault.nameIndex(vault.open(row).name) });
    });
    done += rows.length;
    if (rows.length < batch) return done;
  }
}
