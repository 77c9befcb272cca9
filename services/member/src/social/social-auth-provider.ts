import type { SocialIdentityProof, SocialProvider } from '../domain/identity';

/**
 * Proves who a WeChat or Alipay user is: the client SDK (wx.login, my.getAuthCode) gives the app a
 * short-lived authorisation code, and the adapter exchanges it server-side for the user's ids
 * (WeChat `jscode2session` / `sns/oauth2/access_token`, Alipay `alipay.system.oauth.token`).
 * The member service never accepts raw ids from clients: an openId is not a secret, a fresh code is.
 */
export interface SocialAuthProvider {
  readonly name: string;
  /** The user's ids, or null when the provider does not accept the code (unknown, expired or used). */
  exchange(provider: SocialProvider, code: string): Promise<SocialIdentityProof | null>;
}
