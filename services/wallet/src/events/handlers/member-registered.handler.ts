import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler, ServiceKit } from '@membergraph/platform';
import type { WalletConfig } from '../../config';
import { openWallet } from '../../services/wallet-account.service';

/** `member.registered` -> an empty stored-value account, once per member. */
export function memberRegisteredHandler(kit: ServiceKit<WalletConfig>): EventHandler {
  return async ({ em }, event) => {
    const { memberId } = eventData(EventType.MemberRegistered, event);
    await openWallet(kit, em, memberId);
  };
}
