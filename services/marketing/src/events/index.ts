import { STREAMS, type ConsumerDefinition, type ServiceKit } from '@membergraph/platform';
import { EventType } from '@membergraph/contracts';
import type { MarketingConfig } from '../config';
import { memberRegisteredHandler } from './handlers/member-registered.handler';
import { pointsRewardRedeemedHandler } from './handlers/points-reward-redeemed.handler';

/** What marketing consumes: member lifecycle events from the member stream, redemptions from the points stream. */
export function marketingConsumers(kit: ServiceKit<MarketingConfig>): ConsumerDefinition[] {
  return [
    {
      name: 'marketing-member',
      stream: STREAMS.member,
      handlers: { [EventType.MemberRegistered]: memberRegisteredHandler(kit) },
    },
    {
      // Its own durable (and inbox key): do not rename.
      name: 'marketing-points',
      stream: STREAMS.points,
      handlers: { [EventType.PointsRewardRedeemed]: pointsRewardRedeemedHandler(kit) },
    },
  ];
}
