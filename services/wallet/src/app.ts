import { createService } from '@membergraph/platform';
import { loadWalletConfig, type WalletConfig } from './config';
import { serviceModule } from './module';

/** The wallet service, configured from `env`; tests and main.ts both start it from here. */
export function createApp(env: Record<string, string | undefined> = process.env) {
  return createService<WalletConfig, ReturnType<NonNullable<typeof serviceModule.loaders>>>(serviceModule, loadWalletConfig(env));
}
