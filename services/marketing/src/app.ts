import { createService } from '@membergraph/platform';
import { loadMarketingConfig, type MarketingConfig } from './config';
import { serviceModule } from './module';
import type { MarketingLoaders } from './resolvers';

/** The marketing service, configured from `env`; tests and main.ts both start it from here. */
export function createApp(env: Record<string, string | undefined> = process.env) {
  return createService<MarketingConfig, MarketingLoaders>(serviceModule, loadMarketingConfig(env));
}
