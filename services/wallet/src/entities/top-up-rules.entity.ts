import { EntitySchema } from 'typeorm';

/** The tenant's top-up bonus rules (one row, id 1; absent = the defaults). */
export interface TopUpRulesRow {
  id: number;
  /** JSON, see serializeRules in src/domain/top-up.ts. */
  rules: string;
  updatedAt: Date;
  updatedBy: string;
}

export const TopUpRulesEntity = new EntitySchema<TopUpRulesRow>({
  name: 'TopUpRules',
  tableName: 'wallet_top_up_rules',
  columns: {
    id: { type: 'tinyint', primary: true },
    rules: { type: 'text' },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
    updatedBy: { name: 'updated_by', type: 'varchar', length: 64 },
  },
});
