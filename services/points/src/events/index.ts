import { EventType } from '@membergraph/contracts';
import { STREAMS, type ConsumerDefinition, type ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../config';
import { memberRegisteredHandler } from './handlers/member-registered.handler';
import { orderCompletedHandler } from './handlers/order-completed.handler';
import { orderRefundedHandler } from './handlers/order-refunded.handler';
import { memberTierChangedHandler } from './handlers/member-tier-changed.handler';
import { memberStatusChangedHandler } from './handlers/member-status-changed.handler';
import { memberProfileCompletedHandler } from './handlers/member-profile-completed.handler';
import { memberErasedHandler } from './handlers/member-erased.handler';

/** What the points service listens to on the member stream: registrations, orders and refunds, tier and status changes, profile completion, erasure. */
export function pointsConsumers(kit: ServiceKit<PointsConfig>): ConsumerDefinition[] {
  return [
    {
      name: 'points-member',
      stream: STREAMS.member,
      handlers: {
        [EventType.MemberRegistered]: memberRegisteredHandler(kit),
        [EventType.OrderCompleted]: orderCompletedHandler(kit),
        [EventType.OrderRefunded]: orderRefundedHandler(kit),
        [EventType.MemberTierChanged]: memberTierChangedHandler(),
        [EventType.MemberStatusChanged]: memberStatusChangedHandler(),
        [EventType.MemberProfileCompleted]: memberProfileCompletedHandler(kit),
        [EventType.MemberErased]: memberErasedHandler(),
      },
    },
  ];
}
