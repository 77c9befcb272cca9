import { STAFF_READ, requireMemberAccess, type ServiceKit } from '@membergraph/platform';
import type { AnalyticsConfig } from '../config';
import type { Resolvers } from '../generated/graphql';
import { emptyFacts, insightsOf } from '../domain/facts';

export function analyticsResolvers(_kit: ServiceKit<AnalyticsConfig>): Resolvers {
  return {
    Member: {
      // The member service owns members: any id is a reference, but only for someone allowed to follow it.
      __resolveReference: (ref, ctx) => {
        requireMemberAccess(ctx, ref.id, STAFF_READ);
        return { id: ref.id };
      },
      insights: async (m, _, ctx) => {
        requireMemberAccess(ctx, m.id, STAFF_READ);
        return insightsOf((await ctx.loaders.facts.load(m.id)) ?? emptyFacts(m.id));
      },
    },
  };
}

export { analyticsLoaders, type AnalyticsLoaders } from './loaders';
