import { IntervalWorker, STREAMS, loadTypeDefs, type ServiceModule } from '@membergraph/platform';
import type { MarketingConfig } from './config';
import { entities } from './entities';
import { migrations } from './migrations';
import { marketingConsumers } from './events';
import { marketingLoaders, marketingResolvers, type MarketingLoaders } from './resolvers';
import { seedWelcomeTemplate } from './services/coupon-template.service';
import { serveCouponLockRequests } from './events/responders/coupon-lock.responder';
import { runCouponLockExpiry } from './services/coupon-lock.service';

/** The marketing subgraph: coupon templates, coupons and their checkout locks (campaigns and automation to follow). */
export const serviceModule: ServiceModule<MarketingConfig, MarketingLoaders> = {
  name: 'marketing',
  stream: STREAMS.marketing,
  entities,
  migrations,
  typeDefs: loadTypeDefs(new URL('../schema.graphql', import.meta.url)),
  resolvers: marketingResolvers,
  consumers: marketingConsumers,
  loaders: marketingLoaders,
  async onStart(kit) {
    if (await seedWelcomeTemplate(kit)) kit.log.info('WELCOME coupon template seeded');
    // Answers the checkout saga's coupon steps until the bus drains at stop().
    serveCouponLockRequests(kit);
  },
  // Releases lapsed coupon locks (rows claimed with SKIP LOCKED, so replicas may sweep at once).
  workers: (kit) => [new IntervalWorker('coupon lock sweep', kit.config.LOCK_SWEEP_INTERVAL_MS, kit.log, () => runCouponLockExpiry(kit, new Date()))],
};
