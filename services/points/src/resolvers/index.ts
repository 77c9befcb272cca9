import { ADMIN_ONLY, Role, STAFF_READ, badField, forbidden, requireAuth, requireMemberAccess, requirePermission, type Principal, type ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../config';
import type { Resolvers } from '../generated/graphql';
import { adjustPoints } from '../services/points-adjustment.service';
import { auditPoints } from '../services/points-audit.service';
import { currentEarnRules, updateEarnRules } from '../services/earn-rules.service';
import { runPointsExpiry } from '../services/points-expiry.service';
import { expiringSoon, historyPage } from '../services/points-ledger.service';
import { awardBehaviourPoints, checkIn } from '../services/points-behaviour.service';
import { pendingPoints, runPendingRelease } from '../services/points-pending.service';
import { runExpiryReminders } from '../services/points-reminder.service';
import { captureHold, holdPoints, releaseHold, runHoldExpiry, type HoldCaller } from '../services/points-hold.service';
import { createReward, listRewards, redeemReward, tiersOf, updateFulfilment } from '../services/points-reward.service';
import { approveReview, rejectReview, reviewsPage } from '../services/points-review.service';

const MANAGE_RULES = { roles: [Role.OPERATOR] };
const ADJUST = { roles: [Role.SUPPORT] };
const AUDIT = { roles: [Role.FINANCE] };
/** Checkout holds: integration clients with the scope (POS, e-commerce checkouts), and ADMIN. */
const HOLD = { scopes: ['points:hold'] };
/** Behaviour points reported by integrations (reviews, shares), and ADMIN. */
const AWARD = { scopes: ['points:award'] };
/** The catalogue and gift fulfilment: OPERATOR, and ADMIN. */
const CATALOGUE = { roles: [Role.OPERATOR] };
/** Earnings held by the velocity rules: SUPPORT, and ADMIN. */
const REVIEW = { roles: [Role.SUPPORT] };

/** A GraphQL caller resolves only its own holds, unless ADMIN. */
const holdCaller = (p: Principal): HoldCaller => ({ id: p.sub, anyHold: p.roles.includes(Role.ADMIN) });

export function pointsResolvers(kit: ServiceKit<PointsConfig>): Resolvers {
  return {
    Query: {
      earnRules: (_, __, ctx) => {
        requirePermission(ctx, MANAGE_RULES);
        return currentEarnRules(kit, kit.ds.manager);
      },
      pointsAudit: (_, __, ctx) => {
        requirePermission(ctx, AUDIT);
        return auditPoints(kit.ds.manager);
      },
      rewards: (_, __, ctx) => {
        const principal = requireAuth(ctx);
        return listRewards(kit.ds.manager, principal.kind === 'member' ? { memberId: principal.sub } : 'staff');
      },
      pointsReviews: (_, args, ctx) => {
        requirePermission(ctx, REVIEW);
        return reviewsPage(kit.ds.manager, args);
      },
    },
    Mutation: {
      adjustPoints: (_, { input }, ctx) => {
        const operator = requirePermission(ctx, ADJUST);
        return kit.uow((em) => adjustPoints(kit, em, operator.sub, input));
      },
      updateEarnRules: (_, { input }, ctx) => {
        const operator = requirePermission(ctx, MANAGE_RULES);
        return kit.uow((em) => updateEarnRules(kit, em, operator.sub, input));
      },
      runPointsExpiry: (_, { asOf }, ctx) => {
        const operator = requirePermission(ctx, ADMIN_ONLY);
        return runPointsExpiry(kit, asOf, operator.sub);
      },
      holdPoints: (_, { input }, ctx) => {
        const caller = holdCaller(requirePermission(ctx, HOLD));
        // GraphQL keys are shorter than the contract's so the caller's namespace fits beside them.
        if (input.idempotencyKey.trim().length > 100) throw badField('idempotencyKey', 'idempotencyKey must be 1-100 printable ASCII characters');
        return kit.uow((em) => holdPoints(kit, em, caller, input));
      },
      capturePointsHold: (_, { input }, ctx) => {
        const caller = holdCaller(requirePermission(ctx, HOLD));
        return kit.uow((em) => captureHold(kit, em, caller, input.holdId));
      },
      releasePointsHold: (_, { input }, ctx) => {
        const caller = holdCaller(requirePermission(ctx, HOLD));
        return kit.uow((em) => releaseHold(kit, em, caller, input.holdId));
      },
      runHoldExpiry: (_, { asOf }, ctx) => {
        const operator = requirePermission(ctx, ADMIN_ONLY);
        return runHoldExpiry(kit, asOf, operator.sub);
      },
      checkIn: (_, __, ctx) => {
        const principal = requireAuth(ctx);
        if (principal.kind !== 'member') throw forbidden('Only a member checks in');
        return kit.uow((em) => checkIn(kit, em, principal.sub));
      },
      awardBehaviourPoints: (_, { input }, ctx) => {
        requirePermission(ctx, AWARD);
        return kit.uow((em) => awardBehaviourPoints(kit, em, input));
      },
      runPendingRelease: (_, { asOf }, ctx) => {
        requirePermission(ctx, ADMIN_ONLY);
        return runPendingRelease(kit, asOf);
      },
      runExpiryReminders: (_, { asOf }, ctx) => {
        requirePermission(ctx, ADMIN_ONLY);
        return runExpiryReminders(kit, asOf);
      },
      createReward: (_, { input }, ctx) => {
        const operator = requirePermission(ctx, CATALOGUE);
        return kit.uow((em) => createReward(em, operator.sub, input));
      },
      redeemReward: (_, { input }, ctx) => {
        const principal = requireAuth(ctx);
        if (principal.kind !== 'member') throw forbidden('Only a member redeems rewards');
        return kit.uow((em) => redeemReward(kit, em, principal.sub, input));
      },
      updateRedemptionFulfilment: (_, { input }, ctx) => {
        const operator = requirePermission(ctx, CATALOGUE);
        return kit.uow((em) => updateFulfilment(em, operator.sub, input));
      },
      approvePointsReview: (_, { input }, ctx) => {
        const operator = requirePermission(ctx, REVIEW);
        return kit.uow((em) => approveReview(kit, em, operator.sub, input));
      },
      rejectPointsReview: (_, { input }, ctx) => {
        const operator = requirePermission(ctx, REVIEW);
        return kit.uow((em) => rejectReview(kit, em, operator.sub, input));
      },
    },
    Reward: {
      tiers: (reward) => tiersOf(reward),
    },
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
      lifetimeEarned: async (account, _, ctx) => (await ctx.loaders.account.load(account.memberId))?.lifetimeEarned ?? 0,
      held: async (account, _, ctx) => (await ctx.loaders.account.load(account.memberId))?.held ?? 0,
      available: async (account, _, ctx) => {
        const row = await ctx.loaders.account.load(account.memberId);
        return row ? row.balance - row.held : 0;
      },
      pending: (account) => pendingPoints(kit.ds.manager, account.memberId),
      expiringSoon: (account, { days }) => {
        const n = days ?? 30;
        if (!Number.isInteger(n) || n < 1 || n > 366) throw badField('days', 'days must be between 1 and 366');
        return expiringSoon(kit.ds.manager, account.memberId, new Date(), n);
      },
      history: (account, args) => historyPage(kit.ds.manager, account.memberId, args),
      erasedAt: async (account, _, ctx) => (await ctx.loaders.account.load(account.memberId))?.erasedAt ?? null,
    },
    PointsEntry: {
      // Staff ids are for staff: a member reading their own history does not see who adjusted it.
      operator: (entry, _, ctx) => (ctx.principal?.kind === 'member' ? null : entry.operator),
    },
  };
}

export { pointsLoaders, type PointsLoaders } from './loaders';
