import { EntitySchema, type EntityManager } from 'typeorm';
import { newId } from './ids';

/** Who did what to which record; written in the same transaction as the change. */
export interface AuditEntryRow {
  id: string;
  actor: string;
  action: string;
  target: string;
  /** JSON of the action's particulars (never secrets). */
  detail: string | null;
  at: Date;
}

/** The `audit_log` table of staff writes: services that audit list it in their entities. */
export const AuditEntryEntity = new EntitySchema<AuditEntryRow>({
  name: 'AuditEntry',
  tableName: 'audit_log',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    actor: { type: 'varchar', length: 64 },
    action: { type: 'varchar', length: 64 },
    target: { type: 'varchar', length: 64 },
    detail: { type: 'text', nullable: true },
    at: { type: 'datetime', precision: 3 },
  },
  indices: [{ name: 'idx_audit_target', columns: ['target', 'at'] }],
});

/** Records a staff write in the caller's transaction, so the audit trail cannot miss a change. */
export async function audit(em: EntityManager, actor: string, action: string, target: string, detail?: Record<string, unknown>): Promise<void> {
  await em.getRepository(AuditEntryEntity).insert({
    id: newId(),
    actor,
    action,
    target,
    detail: detail ? JSON.stringify(detail) : null,
    at: new Date(),
  });
}
