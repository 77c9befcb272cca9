import { EntitySchema } from 'typeorm';

/** Who did what to which wallet or setting; written in the same transaction as the change. */
export interface AuditEntryRow {
  id: string;
  actor: string;
  action: string;
  target: string;
  detail: string | null;
  at: Date;
}

export const AuditEntryEntity = new EntitySchema<AuditEntryRow>({
  name: 'AuditEntry',
  tableName: 'wallet_audit_log',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    actor: { type: 'varchar', length: 64 },
    action: { type: 'varchar', length: 64 },
    target: { type: 'varchar', length: 64 },
    detail: { type: 'text', nullable: true },
    at: { type: 'datetime', precision: 3 },
  },
  indices: [{ name: 'idx_wallet_audit_target', columns: ['target', 'at'] }],
});
