import type { ServiceContext } from '@membergraph/platform';
import type { MemberLoaders } from './loaders';

/** The GraphQL context of the member subgraph. */
export type Ctx = ServiceContext<MemberLoaders>;
