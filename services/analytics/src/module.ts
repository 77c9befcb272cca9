import { loadTypeDefs, type ServiceModule } from '@membergraph/platform';
import type { AnalyticsConfig } from './config';
import { entities } from './entities';
import { migrations } from './migrations';
import { analyticsConsumers } from './events';
import { analyticsLoaders, analyticsResolvers, type AnalyticsLoaders } from './resolvers';

/** The analytics subgraph: read models folded from every service's events (member facts so far). */
export const serviceModule: ServiceModule<AnalyticsConfig, AnalyticsLoaders> = {
  name: 'analytics',
  // No `stream`: analytics publishes nothing yet (STREAMS.analytics is reserved for it).
  entities,
  migrations,
  typeDefs: loadTypeDefs(new URL('../schema.graphql', import.meta.url)),
  resolvers: analyticsResolvers,
  consumers: analyticsConsumers,
  loaders: analyticsLoaders,
};
