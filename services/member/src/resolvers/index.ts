import DataLoader from 'dataloader';
import { In, LessThan } from 'typeorm';
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
  type ServiceContext,
  type ServiceKit,
} from '@membergraph/platform';
import type { MemberConfig } from '../config';
import { MemberEntity, type MemberRow } from '../entities/member.entity';
import { OrderEntity, type OrderRow } from '../entities/order.entity';
import { TierEntity } from '../entities/tier.entity';
import type { TierLevel } from '../domain/tiers';
import { membersByIds, registerMember, type RegisterMemberInput } from '../services/member-registry.service';
import { findRecordedOrder, recordOrder, type RecordOrderInput } from '../services/order.service';
import { staffLogin } from '../services/staff-auth.service';
import { PiiVault, maySeePii, presentPii, type MemberPii } from '../services/pii.service';

const REGISTER: Permission = { roles: [Role.OPERATOR, Role.SUPPORT], scopes: ['members:write'] };
const RECORD_ORDER: Permission = { roles: [Role.OPERATOR, Role.SUPPORT], scopes: ['orders:write'] };

export interface MemberLoaders {
  member: DataLoader<string, MemberRow | null>;
  order: DataLoader<string, OrderRow | null>;
  tier: DataLoader<string, TierLevel | null>;
  pii: (row: MemberRow) => MemberPii;
}
type Ctx = ServiceContext<MemberLoaders>;

/** Per-request loaders: batch `_entities` lookups and decrypt each member's PII at most once. */
export function memberLoaders(kit: ServiceKit<MemberConfig>, vault: PiiVault): MemberLoaders {
  const em = kit.ds.manager;
  const opened = new Map<string, MemberPii>();
  return {
    member: new DataLoader((ids) => membersByIds(em, ids)),
    order: new DataLoader(async (ids) => {
      const rows = await em.getRepository(OrderEntity).findBy({ id: In([...ids]) });
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    tier: new DataLoader(async (codes) => {
      const rows = await em.getRepository(TierEntity).findBy({ code: In([...codes]) });
      return codes.map((c) => rows.find((r) => r.code === c) ?? null);
    }),
    pii(row) {
      let pii = opened.get(row.id);
      if (!pii) opened.set(row.id, (pii = vault.open(row)));
      return pii;
    },
  };
}

export function memberResolvers(kit: ServiceKit<MemberConfig>) {
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
      member: (_: unknown, { id }: { id: string }, ctx: Ctx) => {
        requireMemberAccess(ctx, id, STAFF_READ);
        return ctx.loaders.member.load(id);
      },
      members: async (_: unknown, args: { first?: number; after?: string }, ctx: Ctx) => {
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
      staffLogin: (_: unknown, { input }: { input: { username: string; password: string } }) => staffLogin(kit, kit.ds.manager, input),
      registerMember: (_: unknown, { input }: { input: RegisterMemberInput }, ctx: Ctx) => {
        const actor = requirePermission(ctx, REGISTER);
        return kit.uow((em) => registerMember(kit, vaultOf(kit), em, actor.sub, input));
      },
      recordOrder: async (_: unknown, { input }: { input: RecordOrderInput }, ctx: Ctx) => {
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
      __resolveReference: (ref: { id: string }, ctx: Ctx) => {
        requireMemberAccess(ctx, ref.id, STAFF_READ);
        return ctx.loaders.member.load(ref.id);
      },
      phone: (m: MemberRow, _: unknown, ctx: Ctx) => presentPii(ctx.loaders.pii(m), maySeePii(ctx.principal, m.id)).phone,
      name: (m: MemberRow, _: unknown, ctx: Ctx) => presentPii(ctx.loaders.pii(m), maySeePii(ctx.principal, m.id)).name,
      tier: async (m: MemberRow, _: unknown, ctx: Ctx) => (await ctx.loaders.tier.load(m.tierCode)) ?? { code: m.tierCode, name: m.tierCode },
      orders: (m: MemberRow, args: { first?: number; after?: string }, ctx: Ctx) => {
        requireMemberAccess(ctx, m.id, STAFF_READ);
        return orderPage(m.id, args.first, args.after);
      },
    },
    Order: {
      __resolveReference: async (ref: { id: string }, ctx: Ctx) => {
        const order = await ctx.loaders.order.load(ref.id);
        if (order) requireMemberAccess(ctx, order.memberId, STAFF_READ);
        return order;
      },
      member: (o: OrderRow, _: unknown, ctx: Ctx) => ctx.loaders.member.load(o.memberId),
    },
  };
}

const vaults = new WeakMap<object, PiiVault>();
/** One vault per service instance (keys parsed once). */
export function vaultOf(kit: ServiceKit<MemberConfig>): PiiVault {
  let vault = vaults.get(kit);
  if (!vault) vaults.set(kit, (vault = new PiiVault(kit.config.PII_MASTER_KEY, kit.config.PII_INDEX_KEY)));
  return vault;
}
