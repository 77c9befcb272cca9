import { STREAMS, loadTypeDefs, type ServiceModule } from '@membergraph/platform';
import type { MemberConfig } from './config';
import { entities } from './entities';
import { TierEntity } from './entities/tier.entity';
import { migrations } from './migrations';
import { DEFAULT_TIER_LADDER } from './domain/tiers';
import { memberLoaders, memberResolvers, vaultOf, type MemberLoaders } from './resolvers';
import { ensureBootstrapAdmin } from './services/staff-auth.service';
import { depsOf } from './services/deps';
import { serveVerifyOtp } from './events/verify-otp.responder';
import { memberConsumers } from './events';
import { backfillNameIndex } from './services/member-search.service';
import { membersExportRoute } from './routes/members-export.route';
import { serveBirthMonth } from './events/birth-month.responder';
import { backfillBirthMonthDay } from './services/birthday.service';
import { schedulerWorker } from './jobs/scheduler';

/** The member subgraph: identity for the whole platform (members, staff), orders, tiers. */
export const serviceModule: ServiceModule<MemberConfig, MemberLoaders> = {
  name: 'member',
  stream: STREAMS.member,
  entities,
  migrations,
  typeDefs: loadTypeDefs(new URL('../schema.graphql', import.meta.url)),
  resolvers: memberResolvers,
  consumers: memberConsumers,
  loaders: (kit) => memberLoaders(kit, vaultOf(kit)),
  /** `GET /export/members.csv`: the streamed CSV export (authenticates itself). */
  routes: membersExportRoute,
  async onStart(kit) {
    // Seed only an empty ladder: an ADMIN may have replaced it (re-adding a removed default would undo that).
    if (!(await kit.ds.getRepository(TierEntity).count())) {
      await kit.ds.getRepository(TierEntity).createQueryBuilder().insert().values(DEFAULT_TIER_LADDER).orIgnore().execute();
    }
    const indexed = await backfillNameIndex(kit, vaultOf(kit));
    if (indexed) kit.log.info({ members: indexed }, 'name blind index filled');
    const monthDays = await backfillBirthMonthDay(kit, vaultOf(kit));
    if (monthDays) kit.log.info({ members: monthDays }, 'birth month-days filled');
    if (await ensureBootstrapAdmin(kit, kit.ds.manager)) kit.log.info({ username: kit.config.ADMIN_USERNAME }, 'bootstrap admin created');
    // Answers until the bus drains at stop() (the kit has no responder hook or onStop yet).
    serveVerifyOtp(depsOf(kit));
    serveBirthMonth(kit);
  },
  /** The daily check that runs the tier evaluation, the downgrade warnings and the birthday job (jobs/scheduler.ts). */
  workers: (kit) => [schedulerWorker(kit)],
};
