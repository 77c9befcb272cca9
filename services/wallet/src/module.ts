import { STREAMS, loadTypeDefs, type ServiceModule } from '@membergraph/platform';
import type { WalletConfig } from './config';
import { entities } from './entities';
import { migrations } from './migrations';
import { walletConsumers } from './events';
import { walletLoaders, walletResolvers, type WalletLoaders } from './resolvers';

/** The wallet subgraph: members' stored-value accounts; extends `Member { wallet }`. */
export const serviceModule: ServiceModule<WalletConfig, WalletLoaders> = {
  name: 'wallet',
  stream: STREAMS.wallet,
  entities,
  migrations,
  typeDefs: loadTypeDefs(new URL('../schema.graphql', import.meta.url)),
  resolvers: walletResolvers,
  consumers: walletConsumers,
  loaders: walletLoaders,
};
