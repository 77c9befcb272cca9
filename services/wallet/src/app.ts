import { createService } from '@membergraph/platform';
import { loadWalletConfig, type WalletConfig } from './config';
import { createWalletModule } from './module';
import type { WalletLoaders } from './resolvers';
import type { SagaHooks } from './services/checkout.service';

export interface WalletAppOptions {
  /** Test seams of the checkout saga (e.g. stop the process after a step). */
  hooks?: SagaHooks;
}

/** The wallet service, configured from `env`; tests and main.ts both start it from here. */
export function createApp(env: Record<string, string | undefined> = process.env, opts: WalletAppOptions = {}) {
  return createService<WalletConfig, WalletLoaders>(createWalletModule({ hooks: opts.hooks }), loadWalletConfig(env));
}
