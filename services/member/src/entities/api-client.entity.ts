import { EntitySchema } from 'typeorm';

/** A machine client (ERP, POS...); the secret is stored as a scrypt hash only. */
export interface ApiClientRow {
  id: string;
  name: string;
  secretHash: string;
  /** Comma-separated scopes. */
  scopes: string;
  status: string;
  createdAt: Date;
  createdBy: string;
}

export const ApiClientEntity = new EntitySchema<ApiClientRow>({
  name: 'ApiClient',
  tableName: 'api_client',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    name: { type: 'varchar', length: 64 },
    secretHash: { name: 'secret_hash', type: 'varchar', length: 255 },
    scopes: { type: 'varchar', length: 1100, comment: 'comma-separated scopes' },
    status: { type: 'varchar', length: 20, default: 'ACTIVE' },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    createdBy: { name: 'created_by', type: 'varchar', length: 64 },
  },
});
