import { IntervalWorker, STREAMS, loadTypeDefs, type ServiceModule } from '@membergraph/platform';
import type { PointsConfig } from './config';
import { entities } from './entities';
import { migrations } from './migrations';
import { pointsConsumers } from './events';
import { pointsLoaders, pointsResolvers, type PointsLoaders } from './resolvers';
import { serveHoldRequests } from './events/responders/points-hold.responder';
import { runPendingRelease } from './services/points-pending.service';
import { runHoldExpiry } from './services/points-hold.service';

/** The points subgraph: points accounts and their append-only ledger; extends `Member { points }`. */
export const serviceModule: ServiceModule<PointsConfig, PointsLoaders> = {
  name: 'points',
  stream: STREAMS.points,
  entities,
  migrations,
  typeDefs: loadTypeDefs(new URL('../schema.graphql', import.meta.url)),
  resolvers: pointsResolvers,
  consumers: pointsConsumers,
  loaders: pointsLoaders,
  async onStart(kit) {
    // Answers the checkout saga's hold/capture/release until the bus drains at stop().
    serveHoldRequests(kit);
  },
  workers: (kit) => [
    // Releases holds nobody resolved; the operator on their RELEASE entries names the sweeper.
    new IntervalWorker('hold sweep', kit.config.HOLD_SWEEP_INTERVAL_MS, kit.log, () => runHoldExpiry(kit, new Date(), 'system:hold-sweeper')),
    // Credits pending order points whose return window closed (RETURN_WINDOW_DAYS > 0).
    new IntervalWorker('pending release', kit.config.PENDING_RELEASE_INTERVAL_MS, kit.log, () => runPendingRelease(kit, new Date())),
  ],
};
