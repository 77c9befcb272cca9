import type { ServiceKit } from '@membergraph/platform';
import type { MemberConfig } from '../config';
import type { MessageProvider } from '../messaging/message-provider';
import { LocalMessageProvider } from '../messaging/local-message.provider';
import type { SocialAuthProvider } from '../social/social-auth-provider';
import { LocalSocialAuthProvider } from '../social/local-social-auth.provider';
import { PiiVault } from './pii.service';
import { LadderCache } from './tier.service';
import { RegistrationQueue } from './registration-queue';

/** What the identity use cases reach through: the kit, the PII vault, the provider adapters and the per-process caches and queues. */
export interface MemberDeps {
  kit: ServiceKit<MemberConfig>;
  vault: PiiVault;
  /** The tier ladder as the hot paths read it (registration, import, `Member.tier`). */
  ladder: LadderCache;
  /** Staff registrations, written in batches under load (group commit). */
  registrations: RegistrationQueue;
  messages: MessageProvider;
  /** Turns WeChat/Alipay authorisation codes into the user's ids. */
  social: SocialAuthProvider;
}

const cache = new WeakMap<object, MemberDeps>();

/** One set per service instance (keys parsed once, one provider each). */
export function depsOf(kit: ServiceKit<MemberConfig>): MemberDeps {
  let deps = cache.get(kit);
  if (!deps) {
    const vault = new PiiVault(kit.config.PII_MASTER_KEY, kit.config.PII_INDEX_KEY);
    // MESSAGE_PROVIDER and SOCIAL_AUTH_PROVIDER have one value so far; real SMS/email/WeChat and
    // WeChat/Alipay login adapters plug in here.
    const messages = new LocalMessageProvider(kit.ds, vault);
    const social = new LocalSocialAuthProvider();
    const base = { kit, vault, messages, social, ladder: new LadderCache(kit) };
    cache.set(kit, (deps = { ...base, registrations: new RegistrationQueue(base) }));
  }
  return deps;
}
