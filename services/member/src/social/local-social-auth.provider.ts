import { parseLocalCode, type SocialIdentityProof, type SocialProvider } from '../domain/identity';
import type { SocialAuthProvider } from './social-auth-provider';

/**
 * Outside production: accepts `local:<openId>[:<unionId>]` as the code of that user, for any
 * provider, so tests and the dev console can log in as any WeChat or Alipay user. Refused in
 * production by config (it trusts whoever writes the code).
 */
export class LocalSocialAuthProvider implements SocialAuthProvider {
  readonly name = 'local';

  async exchange(_provider: SocialProvider, code: string): Promise<SocialIdentityProof | null> {
    return parseLocalCode(code);
  }
}
