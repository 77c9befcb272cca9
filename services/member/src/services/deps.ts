import type { ServiceKit } from '@membergraph/platform';
import type { MemberConfig } from '../config';
import type { MessageProvider } from '../messaging/message-provider';
import { LocalMessageProvider } from '../messaging/local-message.provider';
import { PiiVault } from './pii.service';

/** What the identity use cases reach through: the kit, the PII vault and the message provider. */
export interface MemberDeps {
  kit: ServiceKit<MemberConfig>;
  vault: PiiVault;
  messages: MessageProvider;
}

const cache = new WeakMap<object, MemberDeps>();

/** One set per service instance (keys parsed once, one provider). */
export function depsOf(kit: ServiceKit<MemberConfig>): MemberDeps {
  let deps = cache.get(kit);
  if (!deps) {
    const vault = new PiiVault(kit.config.PII_MASTER_KEY, kit.config.PII_INDEX_KEY);
    // MESSAGE_PROVIDER has one value so far; real SMS/email adapters plug in here.
    const messages = new LocalMessageProvider(kit.ds, vault);
    cache.set(kit, (deps = { kit, vault, messages }));
  }
  return deps;
}
