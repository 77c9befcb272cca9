import type { ServiceContext } from '@membergraph/platform';
import type { MarketingLoaders } from './loaders';

/** The GraphQL context of the marketing subgraph. */
export type Ctx = ServiceContext<MarketingLoaders>;

/** A member as this subgraph knows it: only the id the gateway sends. */
export interface MemberRef {
  id: string;
}
