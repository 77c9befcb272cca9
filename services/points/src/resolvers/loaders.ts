import DataLoader from 'dataloader';
import type { ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../config';
import type { PointsAccountRow } from '../entities/points-account.entity';
import { accountsByMemberIds } from '../services/points-ledger.service';

export interface PointsLoaders {
  account: DataLoader<string, PointsAccountRow | null>;
}

/** Per-request loaders: one query for the accounts of every member in an `_entities` batch. */
export function pointsLoaders(kit: ServiceKit<PointsConfig>): PointsLoaders {
  const em = kit.ds.manager;
  return {
    account: new DataLoader((ids) => accountsByMemberIds(em, ids)),
  };
}
