import { createService } from '@membergraph/platform';
import { loadPointsConfig, type PointsConfig } from './config';
import { serviceModule } from './module';

/** The points service, configured from `env`; tests and main.ts both start it from here. */
export function createApp(env: Record<string, string | undefined> = process.env) {
  return createService<PointsConfig, ReturnType<NonNullable<typeof serviceModule.loaders>>>(serviceModule, loadPointsConfig(env));
}
