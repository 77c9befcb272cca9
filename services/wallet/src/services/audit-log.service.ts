import type { EntityManager } from 'typeorm';
import { newId } from '@membergraph/platform';
import { AuditEntryEntity } from '../entities/audit-entry.entity';

/** Records a staff write in the caller's transaction, so the audit trail cannot miss a change. */
export async function auditLog(em: EntityManager, actor: string, action: string, target: string, detail?: Record<string, unknown>) {
  await em.getRepository(AuditEntryEntity).insert({
    id: newId(),
    actor,
    action,
    target,
    detail: detail ? JSON.stringify(detail) : null,
    at: new Date(),
  });
}
