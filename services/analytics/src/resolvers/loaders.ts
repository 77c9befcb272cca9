import DataLoader from 'dataloader';
import type { ServiceKit } from '@membergraph/platform';
import type { AnalyticsConfig } from '../config';
import type { MemberFactRow } from '../entities/member-fact.entity';
import { factsByMemberIds } from '../services/member-facts.service';

export interface AnalyticsLoaders {
  facts: DataLoader<string, MemberFactRow | null>;
}

/** Per-request loaders: one query for the facts of every member in a response. */
export function analyticsLoaders(kit: ServiceKit<AnalyticsConfig>): AnalyticsLoaders {
  return { facts: new DataLoader((ids) => factsByMemberIds(kit.ds.manager, ids)) };
}
