import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';
import type { TierLevel } from '../domain/tiers';

/** A rung of the tier ladder (seeded with the defaults, configurable later). */
export const TierEntity = new EntitySchema<TierLevel>({
  name: 'Tier',
  tableName: 'tier',
  columns: {
    code: { type: 'varchar', length: 20, primary: true },
    name: { type: 'varchar', length: 64 },
    rank: { type: 'int', unique: true },
    minAnnualSpend: { name: 'min_annual_spend', type: 'bigint', transformer: bigintColumn },
    minGrowth: { name: 'min_growth', type: 'bigint', transformer: bigintColumn },
  },
});
