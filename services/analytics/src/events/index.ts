import { STREAMS, type ConsumerDefinition, type ServiceKit } from '@membergraph/platform';
import { EventType } from '@membergraph/contracts';
import type { AnalyticsConfig } from '../config';
import { memberRegisteredHandler } from './handlers/member-registered.handler';
import { orderCompletedHandler } from './handlers/order-completed.handler';

/** What analytics consumes; it publishes nothing yet. */
export function analyticsConsumers(kit: ServiceKit<AnalyticsConfig>): ConsumerDefinition[] {
  return [
    {
      name: 'analytics-member',
      stream: STREAMS.member,
      maxAttempts: kit.config.EVENT_MAX_ATTEMPTS,
      handlers: {
        [EventType.MemberRegistered]: memberRegisteredHandler(),
        [EventType.OrderCompleted]: orderCompletedHandler(),
      },
    },
  ];
}
