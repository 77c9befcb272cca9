import { STREAMS, loadTypeDefs, type ServiceModule } from '@membergraph/platform';
import type { WalletConfig } from './config';
import { entities } from './entities';
import { migrations } from './migrations';
import { walletConsumers } from './events';
import { walletLoaders, walletResolvers, type WalletLoaders } from './resolvers';
import { ensureChainHead } from './services/ledger.service';

/** The wallet subgraph: members' stored-value accounts and their double-entry journal; extends `Member { wallet }`. */
export const serviceModule: ServiceModule<WalletConfig, WalletLoaders> = {
  name: 'wallet',
  stream: STREAMS.wallet,
  entities,
  migrations,
  typeDefs: loadTypeDefs(new URL('../schema.graphql', import.meta.url)),
  resolvers: walletResolvers,
  consumers: walletConsumers,
  loaders: walletLoaders,
  onStart: (kit) => ensureChainHead(kit.ds.manager),
};
