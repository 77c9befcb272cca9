import { createService } from '@membergraph/platform';
import { loadMemberConfig, type MemberConfig } from './config';
import { serviceModule } from './module';

/** The member service, configured from `env`; tests and main.ts both start it from here. */
export function createApp(env: Record<string, string | undefined> = process.env) {
  return createService<MemberConfig, ReturnType<NonNullable<typeof serviceModule.loaders>>>(serviceModule, loadMemberConfig(env));
}
