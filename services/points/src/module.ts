import { hostname } from 'node:os';
import { IntervalWorker, STREAMS, loadTypeDefs, newId, type ServiceModule } from '@membergraph/platform';
import type { PointsConfig } from './config';
import { entities } from './entities';
import { migrations } from './migrations';
import { pointsConsumers } from './events';
import { pointsLoaders, pointsResolvers, type PointsLoaders } from './resolvers';
import { serveHoldRequests } from './events/responders/points-hold.responder';
import { runPendingRelease } from './services/points-pending.service';
import { runHoldExpiry } from './services/points-hold.service';
import { DailyJob, runDailyJob } from './services/points-schedule.service';

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
  workers: (kit) => {
    // Names this replica on the daily jobs' claims (pod name in Kubernetes, then pid and a unique part).
    const replica = `${hostname()}:${process.pid}:${newId()}`.slice(-64);
    return [
      // Releases holds nobody resolved; the operator on their RELEASE entries names the sweeper.
      new IntervalWorker('hold sweep', kit.config.HOLD_SWEEP_INTERVAL_MS, kit.log, () => runHoldExpiry(kit, new Date(), 'system:hold-sweeper')),
      // Credits pending order points whose return window closed (RETURN_WINDOW_DAYS > 0).
      new IntervalWorker('pending release', kit.config.PENDING_RELEASE_INTERVAL_MS, kit.log, () => runPendingRelease(kit, new Date())),
      // Once per business day each (the first replica to claim the day runs it): expiry, then reminders later in the day.
      new IntervalWorker('points expiry schedule', kit.config.DAILY_JOBS_CHECK_INTERVAL_MS, kit.log, () => runDailyJob(kit, DailyJob.POINTS_EXPIRY, replica)),
      new IntervalWorker('expiry reminder schedule', kit.config.DAILY_JOBS_CHECK_INTERVAL_MS, kit.log, () => runDailyJob(kit, DailyJob.EXPIRY_REMINDERS, replica)),
    ];
  },
};
