import { ADMIN_ONLY, Role, STAFF_READ, requireMemberAccess, requirePermission, type Permission, type ServiceKit } from '@membergraph/platform';
import type { MarketingConfig } from '../config';
import type { Resolvers } from '../generated/graphql';
import { memberCoupons } from '../services/coupon.service';
import { runCouponLockExpiry } from '../services/coupon-lock.service';
import { createCouponTemplate, listCouponTemplates } from '../services/coupon-template.service';

/** Who may see and manage coupon templates (ADMIN always may). */
const MANAGE_TEMPLATES: Permission = { roles: [Role.OPERATOR] };

export function marketingResolvers(kit: ServiceKit<MarketingConfig>): Resolvers {
  return {
    Query: {
      couponTemplates: (_, __, ctx) => {
        requirePermission(ctx, MANAGE_TEMPLATES);
        return listCouponTemplates(kit.ds.manager);
      },
    },
    Mutation: {
      createCouponTemplate: (_, { input }, ctx) => {
        requirePermission(ctx, MANAGE_TEMPLATES);
        return kit.uow((em) => createCouponTemplate(em, input));
      },
      runCouponLockExpiry: (_, { asOf }, ctx) => {
        requirePermission(ctx, ADMIN_ONLY);
        return runCouponLockExpiry(kit, asOf);
      },
    },
    Member: {
      // The member service owns members: any id is a reference, but only for someone allowed to follow it.
      __resolveReference: (ref, ctx) => {
        requireMemberAccess(ctx, ref.id, STAFF_READ);
        return { id: ref.id };
      },
      coupons: (m, args, ctx) => {
        requireMemberAccess(ctx, m.id, STAFF_READ);
        return memberCoupons(kit.ds.manager, m.id, args.status);
      },
    },
    Coupon: {
      template: async (c, _, ctx) => required(await ctx.loaders.template.load(c.templateId), `template ${c.templateId}`),
    },
  };
}

/** A row that must exist because another row points at it; a miss is a broken invariant, not user error. */
function required<T>(row: T | null, what: string): T {
  if (!row) throw new Error(`${what} is missing`);
  return row;
}

export { marketingLoaders, type MarketingLoaders } from './loaders';
