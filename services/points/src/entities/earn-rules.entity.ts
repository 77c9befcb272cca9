import { EntitySchema } from 'typeorm';

/**
 * The earning rules in force, as one JSON document per rule set (`default` for now; per brand
 * later). `version` counts saves. Absent until the first save: the config's defaults apply.
 */
export interface EarnRulesRow {
  id: string;
  /** JSON of domain/earn.ts `EarnRules`. */
  rules: string;
  version: number;
  updatedBy: string | null;
  updatedAt: Date;
}

export const EarnRulesEntity = new EntitySchema<EarnRulesRow>({
  name: 'EarnRules',
  tableName: 'points_earn_rules',
  columns: {
    id: { type: 'varchar', length: 32, primary: true },
    rules: { type: 'longtext' },
    version: { type: 'int' },
    updatedBy: { name: 'updated_by', type: 'varchar', length: 64, nullable: true },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
  },
});
