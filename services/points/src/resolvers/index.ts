import { STAFF_READ, requireMemberAccess, type ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../config';
import type { Resolvers } from '../generated/graphql';
import { historyPage } from '../services/points-ledger.service';

export function pointsResolvers(kit: ServiceKit<PointsConfig>): Resolvers {
  return {
    Member: {
      // The reference carries only the id; `points` checks who is asking before anything is read.
      __resolveReference: (ref) => ({ id: ref.id }),
      points: (member, _, ctx) => {
        requireMemberAccess(ctx, member.id, STAFF_READ);
        return { memberId: member.id };
      },
    },
    PointsAccount: {
      // No account yet (the welcome event is still on its way): nothing earned, nothing owed.
      balance: async (account, _, ctx) => (await ctx.loaders.account.load(account.memberId))?.balance ?? 0,
      history: (account, args) => historyPage(kit.ds.manager, account.memberId, args),
    },
  };
}

export { pointsLoaders, type PointsLoaders } from './loaders';
