import { EventType } from '@membergraph/contracts';
import { STREAMS, type ConsumerDefinition, type ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../config';
import { memberRegisteredHandler } from './handlers/member-registered.handler';
import { orderCompletedHandler } from './handlers/order-completed.handler';

/** What the points service listens to: registrations and completed orders from the member stream. */
export function pointsConsumers(kit: ServiceKit<PointsConfig>): ConsumerDefinition[] {
  return [
    {
      name: 'points-member',
      stream: STREAMS.member,
      handlers: {
        [EventType.MemberRegistered]: memberRegisteredHandler(kit),
        [EventType.OrderCompleted]: orderCompletedHandler(kit),
      },
    },
  ];
}
