import { EventType } from '@membergraph/contracts';
import { STREAMS, type ConsumerDefinition, type ServiceKit } from '@membergraph/platform';
import type { WalletConfig } from '../config';
import { memberRegisteredHandler } from './handlers/member-registered.handler';
import { memberStatusChangedHandler } from './handlers/member-status-changed.handler';
import { memberErasedHandler } from './handlers/member-erased.handler';

/** What the wallet service listens to on the member stream: registrations, status changes and erasures. */
export function walletConsumers(kit: ServiceKit<WalletConfig>): ConsumerDefinition[] {
  return [
    {
      name: 'wallet-member',
      stream: STREAMS.member,
      handlers: {
        [EventType.MemberRegistered]: memberRegisteredHandler(kit),
        [EventType.MemberStatusChanged]: memberStatusChangedHandler(),
        [EventType.MemberErased]: memberErasedHandler(),
      },
    },
  ];
}
