import { createService } from '@membergraph/platform';
import { loadAnalyticsConfig, type AnalyticsConfig } from './config';
import { serviceModule } from './module';
import type { AnalyticsLoaders } from './resolvers';

/** The analytics service, configured from `env`; tests and main.ts both start it from here. */
export function createApp(env: Record<string, string | undefined> = process.env) {
  return createService<AnalyticsConfig, AnalyticsLoaders>(serviceModule, loadAnalyticsConfig(env));
}
