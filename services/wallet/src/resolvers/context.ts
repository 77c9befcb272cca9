import type { ServiceContext } from '@membergraph/platform';
import type { WalletLoaders } from './loaders';

/** The GraphQL context of the wallet subgraph. */
export type Ctx = ServiceContext<WalletLoaders>;

/** A member as this subgraph knows it: only the id the gateway sends. */
export interface MemberRef {
  id: string;
}
