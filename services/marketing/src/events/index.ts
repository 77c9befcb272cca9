import { STREAMS, type ConsumerDefinition, type ServiceKit } from '@membergraph/platform';
import { EventType } from '@membergraph/contracts';
import type { MarketingConfig } from '../config';
import { memberRegisteredHandler } from './handlers/member-registered.handler';

/** What marketing consumes: member lifecycle events from the member stream. */
export function marketingConsumers(kit: ServiceKit<MarketingConfig>): ConsumerDefinition[] {
  return [
    {
      name: 'marketing-member',
      stream: STREAMS.member,
      handlers: { [EventType.MemberRegistered]: memberRegisteredHandler(kit) },
    },
  ];
}
