import { EventType } from '@membergraph/contracts';
import { STREAMS, type ConsumerDefinition, type ServiceKit } from '@membergraph/platform';
import type { WalletConfig } from '../config';
import { memberRegisteredHandler } from './handlers/member-registered.handler';

/** What the wallet service listens to: registrations from the member stream. */
export function walletConsumers(kit: ServiceKit<WalletConfig>): ConsumerDefinition[] {
  return [
    {
      name: 'wallet-member',
      stream: STREAMS.member,
      handlers: {
        [EventType.MemberRegistered]: memberRegisteredHandler(kit),
      },
    },
  ];
}
