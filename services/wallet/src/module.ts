import { STREAMS, loadTypeDefs, type ServiceModule } from '@membergraph/platform';
import type { WalletConfig } from './config';
import { entities } from './entities';
import { migrations } from './migrations';
import { walletConsumers } from './events';
import { walletLoaders, walletResolvers, type WalletLoaders } from './resolvers';
import { ensureChainHead } from './services/ledger.service';
import { checkoutDeps, type SagaHooks } from './services/checkout.service';
import { PaymentRecovery } from './services/payment-recovery.service';
import { reconciliationRoute } from './services/reconciliation.service';
import { JournalSealer } from './services/ledger-sealer.service';

/** The wallet subgraph: members' stored-value accounts, their double-entry journal and checkout; extends `Member { wallet }`. */
export function createWalletModule(opts: { hooks?: SagaHooks } = {}): ServiceModule<WalletConfig, WalletLoaders> {
  return {
    name: 'wallet',
    stream: STREAMS.wallet,
    entities,
    migrations,
    typeDefs: loadTypeDefs(new URL('../schema.graphql', import.meta.url)),
    resolvers: (kit) => walletResolvers(kit, opts.hooks),
    consumers: walletConsumers,
    loaders: walletLoaders,
    onStart: (kit) => ensureChainHead(kit.ds.manager),
    routes: reconciliationRoute,
    // The sealer last: stopped first (the kit stops workers in order), it still seals what recovery committed.
    workers: (kit) => [new PaymentRecovery(checkoutDeps(kit, opts.hooks ?? {})), new JournalSealer(kit)],
  };
}

export const serviceModule = createWalletModule();
