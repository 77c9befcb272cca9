import type { ServiceContext } from '@membergraph/platform';
import type { AnalyticsLoaders } from './loaders';

/** The GraphQL context of the analytics subgraph. */
export type Ctx = ServiceContext<AnalyticsLoaders>;

/** A member as this subgraph knows it: only the id the gateway sends. */
export interface MemberRef {
  id: string;
}
