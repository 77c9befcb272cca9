import type { ServiceContext } from '@membergraph/platform';
import type { PointsLoaders } from './loaders';

/** The GraphQL context of the points subgraph. */
export type Ctx = ServiceContext<PointsLoaders>;

/** A member as this subgraph knows it: only the id the gateway sends. */
export interface MemberRef {
  id: string;
}

/** What `Member.points` resolves to: the account row is read only if `balance` is asked for. */
export interface PointsAccountRef {
  memberId: string;
}
