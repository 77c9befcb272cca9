import { LessThan } from 'typeorm';
import {
  Role,
  STAFF_READ,
  decodeCursor,
  isDuplicateKey,
  pageSize,
  requireMemberAccess,
  requirePermission,
  toConnection,
  type Permission,
  type ServiceKit,
} from '@membergraph/platform';
import type { MemberConfig } from '../config';
import { MemberEntity } from '../entities/member.entity';
import { OrderEntity } from '../entities/order.entity';
import type { Resolvers } from '../generated/graphql';
import { registerMember } from '../services/member-registry.service';
import { findRecordedOrder, recordOrder } from '../services/order.service';
import { staffLogin } from '../services/staff-auth.service';
import { PiiVault, maySeePii, presentPii } from '../services/pii.service';

const REGISTER: Permission = { roles: [Role.OPERATOR, Role.SUPPORT], scopes: ['members:write'] };
const RECORD_ORDER: Permission = { roles: [Role.OPERATOR, Role.SUPPORT], scopes: ['orders:write'] };

export function memberResolvers(kit: ServiceKit<MemberConfig>): Resolvers {
  const orderPage = async (memberId: string, first: number | null | undefined, after: string | null | undefined) => {
    const n = pageSize(first);
    const cursor = decodeCursor(after);
    const rows = await kit.ds.getRepository(OrderEntity).find({
      where: { memberId, ...(cursor ? { id: LessThan(cursor) } : {}) },
      order: { id: 'DESC' },
      take: n + 1,
    });
    return toConnection(rows, n, (r) => r.id);
  };

  return {
    Query: {
      member: (_, { id }, ctx) => {
        requireMemberAccess(ctx, id, STAFF_READ);
        return ctx.loaders.member.load(id);
      },
      members: async (_, args, ctx) => {
        requirePermission(ctx, STAFF_READ);
        const n = pageSize(args.first);
        const cursor = decodeCursor(args.after);
        const rows = await kit.ds.getRepository(MemberEntity).find({
          where: cursor ? { id: LessThan(cursor) } : {},
          order: { id: 'DESC' },
          take: n + 1,
        });
        return toConnection(rows, n, (r) => r.id);
      },
    },
    Mutation: {
      staffLogin: (_, { input }) => staffLogin(kit, kit.ds.manager, input),
      registerMember: (_, { input }, ctx) => {
        const actor = requirePermission(ctx, REGISTER);
        return kit.uow((em) => registerMember(kit, vaultOf(kit), em, actor.sub, input));
      },
      recordOrder: async (_, { input }, ctx) => {
        const actor = requirePermission(ctx, RECORD_ORDER);
        try {
          return await kit.uow((em) => recordOrder(kit, em, actor.sub, input));
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          // An identical request committed first: answer as its replay would.
          const existing = await findRecordedOrder(kit.ds.manager, input);
          if (!existing) throw err;
          return existing;
        }
      },
    },
    Member: {
      __resolveReference: (ref, ctx) => {
        requireMemberAccess(ctx, ref.id, STAFF_READ);
        return ctx.loaders.member.load(ref.id);
      },
      phone: (m, _, ctx) => presentPii(ctx.loaders.pii(m), maySeePii(ctx.principal, m.id)).phone,
      name: (m, _, ctx) => presentPii(ctx.loaders.pii(m), maySeePii(ctx.principal, m.id)).name,
      tier: async (m, _, ctx) => required(await ctx.loaders.tier.load(m.tierCode), `tier ${m.tierCode}`),
      orders: (m, args, ctx) => {
        requireMemberAccess(ctx, m.id, STAFF_READ);
        return orderPage(m.id, args.first, args.after);
      },
    },
    Order: {
      __resolveReference: async (ref, ctx) => {
        const order = await ctx.loaders.order.load(ref.id);
        if (order) requireMemberAccess(ctx, order.memberId, STAFF_READ);
        return order;
      },
      member: async (o, _, ctx) => required(await ctx.loaders.member.load(o.memberId), `member ${o.memberId}`),
    },
  };
}

/** A row that must exist because another row points at it; a miss is a broken invariant, not user error. */
function required<T>(row: T | null, what: string): T {
  if (!row) throw new Error(`${what} is missing`);
  return row;
}

const vaults = new WeakMap<object, PiiVault>();
/** One vault per service instance (keys parsed once). */
export function vaultOf(kit: ServiceKit<MemberConfig>): PiiVault {
  let vault = vaults.get(kit);
  if (!vault) vaults.set(kit, (vault = new PiiVault(kit.config.PII_MASTER_KEY, kit.config.PII_INDEX_KEY)));
  return vault;
}

export { memberLoaders, type MemberLoaders } from './loaders';
