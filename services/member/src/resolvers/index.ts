import { LessThan } from 'typeorm';
import {
  ADMIN_ONLY,
  AppError,
  ErrorCode,
  Role,
  STAFF_READ,
  badField,
  decodeCursor,
  forbidden,
  isAllowed,
  isDuplicateKey,
  requireAuth,
  pageSize,
  requireMemberAccess,
  requirePermission,
  toConnection,
  unitOfWork,
  type Permission,
  type ServiceKit,
} from '@membergraph/platform';
import type { MemberConfig } from '../config';
import { OrderEntity } from '../entities/order.entity';
import type { Channel, ConsentChannel, ConsentPurpose, Gender, MemberStatus, Resolvers, TagSource } from '../generated/graphql';
import { setManualTag, tagSummary, validTag } from '../services/tag.service';
import type { Ctx } from './context';
import { consentHistory, updateConsents, validateConsents } from '../services/consent.service';
import { currentConsents } from '../domain/consent';
import { auditEntries, exportMemberData } from '../services/privacy.service';
import { eraseMember } from '../services/member-erasure.service';
import { updateProfile, validateProfile } from '../services/member-profile.service';
import { SELF, registerMember, validateRegistration } from '../services/member-registry.service';
import { findRecordedOrder, findRecordedRefund, recordOrder, recordRefund, type RecordOrderInput } from '../services/order.service';
import { loadLadder, setMemberTier, updateTierLadder } from '../services/tier.service';
import { changeMemberStatus } from '../services/member-status.service';
import { authorizeSearch, searchMembers } from '../services/member-search.service';
import { MAX_IMPORT_ROWS, importMembers } from '../services/member-import.service';
import { runTierEvaluation } from '../jobs/tier-evaluation.job';
import { runTierDowngradeWarnings } from '../jobs/tier-downgrade-warning.job';
import { runBirthdayJob } from '../jobs/birthday.job';
import type { MemberRow } from '../entities/member.entity';
import { createStaffUser, staffLogin } from '../services/staff-auth.service';
import { maySeePii, presentPii, type MemberPii, type PiiVault } from '../services/pii.service';
import { depsOf } from '../services/deps';
import { consumeOtp, requestOtp, requireOtp } from '../services/otp.service';
import { memberLogin } from '../services/member-auth.service';
import { bindIdentity, presentIdentities, proveIdentity, socialLogin } from '../services/identity.service';
import { requestEmailVerification, verifyEmail } from '../services/email-verification.service';
import { clientToken, createApiClient } from '../services/api-client.service';
import { isRecorder } from '../messaging/message-provider';
import { SELF_SERVICE_CHANNELS } from '../domain/profile';
import { normalizePhone } from '../domain/phone';
import { normalizeEmail } from '../domain/profile';
import { isIdentityId } from '../domain/identity';

const REGISTER: Permission = { roles: [Role.OPERATOR, Role.SUPPORT], scopes: ['members:write'] };
const RECORD_ORDER: Permission = { roles: [Role.OPERATOR, Role.SUPPORT], scopes: ['orders:write'] };
const SET_TIER: Permission = { roles: [Role.OPERATOR] };
const CHANGE_STATUS: Permission = { roles: [Role.SUPPORT, Role.OPERATOR] };
/** Staff who may change a member's profile (ADMIN too); every change they make is audited. */
const EDIT_PROFILE: Permission = { roles: [Role.OPERATOR, Role.SUPPORT] };
/** Staff who may record consents on a member's behalf (ADMIN too); audited. */
const EDIT_CONSENTS: Permission = { roles: [Role.SUPPORT] };
/** Who may read a member's audit trail. */
const READ_AUDIT: Permission = { roles: [Role.SUPPORT] };
/** Who puts manual tags on members (ADMIN too). */
const TAG: Permission = { roles: [Role.OPERATOR] };
const MAX_BATCH = 500;
/** Staff (and integration clients) who bind a social account for a member (ADMIN too); audited. */
const BIND_IDENTITY: Permission = { roles: [Role.OPERATOR, Role.SUPPORT], scopes: ['members:write'] };
/** Who imports members in bulk (ADMIN too). */
const IMPORT: Permission = { roles: [Role.OPERATOR] };
/** A batch racing a registration of one of its phones retries; more than this is not a race. */
const IMPORT_ATTEMPTS = 3;
/** Who a member token may not act as any more (DOMAIN.md: BLACKLISTED no access; ERASED gone). */
const LOCKED_OUT = new Set(['BLACKLISTED', 'ERASED']);

export function memberResolvers(kit: ServiceKit<MemberConfig>): Resolvers {
  const deps = depsOf(kit);
  /** Records one order; a concurrent identical request that committed first is answered as its replay. */
  const recordOne = async (actor: string, input: RecordOrderInput) => {
    try {
      return await kit.uow((em) => recordOrder(kit, em, actor, input));
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const existing = await findRecordedOrder(kit.ds.manager, input);
      if (!existing) throw err;
      return { order: existing, created: false };
    }
  };
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
      member: async (_, { id }, ctx) => {
        requireMemberAccess(ctx, id, STAFF_READ);
        return stillAllowed(ctx, await ctx.loaders.member.load(id));
      },
      members: async (_, args, ctx) => {
        const filter = args.filter ?? {};
        authorizeSearch(requirePermission(ctx, STAFF_READ), filter);
        const n = pageSize(args.first);
        const rows = await searchMembers(kit.ds.manager, deps.vault, filter, n + 1, decodeCursor(args.after));
        return toConnection(rows, n, (r) => r.id);
      },
      tiers: (_, __, ctx) => {
        requireAuth(ctx);
        return loadLadder(kit.ds.manager);
      },
      me: async (_, __, ctx) => {
        const principal = requireAuth(ctx);
        if (principal.kind !== 'member') throw forbidden('me needs a member token');
        const member = await ctx.loaders.member.load(principal.sub);
        if (!member || LOCKED_OUT.has(member.status)) throw forbidden();
        return member;
      },
      tags: async (_, __, ctx) => {
        requirePermission(ctx, STAFF_READ);
        return (await tagSummary(kit.ds.manager)).map((t) => ({ ...t, source: t.source as TagSource }));
      },
      myData: async (_, __, ctx) => {
        const principal = requireAuth(ctx);
        if (principal.kind !== 'member') throw forbidden('myData needs a member token');
        const member = await ctx.loaders.member.load(principal.sub);
        if (!member || LOCKED_OUT.has(member.status)) throw forbidden();
        // One snapshot, so orders, refunds and the audit trail agree with each other.
        const data = await unitOfWork(kit.ds, (em) => exportMemberData(em, deps.vault, principal.sub), { isolation: 'REPEATABLE READ' });
        return { ...data, profile: { ...data.profile, gender: data.profile.gender as Gender | null, channel: data.profile.channel as Channel, status: data.profile.status as MemberStatus } };
      },
      auditLog: async (_, { memberId, first, after }, ctx) => {
        requirePermission(ctx, READ_AUDIT);
        const n = pageSize(first);
        return toConnection(await auditEntries(kit.ds.manager, memberId, n + 1, decodeCursor(after)), n, (r) => r.id);
      },
      sentMessages: async (_, { to, channel }, ctx) => {
        requirePermission(ctx, ADMIN_ONLY);
        if (channel === 'WECHAT') {
          if (!isIdentityId(to)) throw badField('to', 'to must be a WeChat openId');
        } else if (!normalizePhone(to) && !(to.includes('@') && normalizeEmail(to))) {
          throw badField('to', 'to must be a phone number or an email address');
        }
        // Only the local recorder keeps messages; a real provider has nothing to show.
        return isRecorder(deps.messages) ? deps.messages.sentTo(to, { channel: channel ?? undefined }) : [];
      },
    },
    Mutation: {
      staffLogin: (_, { input }, ctx) => staffLogin(deps, ctx, input),
      registerMember: async (_, { input }, ctx) => {
        const staff = ctx.principal;
        if (staff) {
          // Staff at a store or back office: as before, the code is not needed (nor checked).
          if (!isAllowed(staff, REGISTER)) throw forbidden();
          return deps.registrations.register(staff.sub, validateRegistration(input));
        }
        // Self-registration: everything is checked before the code is, so bad input costs no try.
        const valid = validateRegistration(input);
        if (!SELF_SERVICE_CHANNELS.has(valid.channel)) {
          throw badField('channel', `channel ${valid.channel} is for staff; register yourself through WEB, APP, MINI_PROGRAM, SOCIAL or EVENT`);
        }
        if (!input.otp) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Registering without a staff token needs a REGISTER code (requestOtp)', { field: 'otp' });
        const otpId = await requireOtp(deps, deps.vault.phoneIndex(valid.phone), 'REGISTER', input.otp);
        return kit.uow(async (em) => {
          await consumeOtp(em, otpId);
          return registerMember(deps, em, SELF, valid);
        });
      },
      requestOtp: (_, { input }, ctx) => requestOtp(deps, ctx, input),
      memberLogin: (_, { input }) => memberLogin(deps, input),
      socialLogin: (_, { input }) => socialLogin(deps, input),
      bindIdentity: async (_, { input }, ctx) => {
        const principal = requireAuth(ctx);
        const memberId = input.memberId ?? (principal.kind === 'member' ? principal.sub : null);
        if (!memberId) throw badField('memberId', 'memberId is required when staff bind an account');
        requireMemberAccess(ctx, memberId, BIND_IDENTITY);
        stillAllowed(ctx, await ctx.loaders.member.load(memberId));
        // The provider is asked before the transaction: no row lock is held across its round trip.
        const proof = await proveIdentity(deps, input.provider, input.code);
        return kit.uow((em) => bindIdentity(deps, em, principal.sub, memberId, input.provider, proof));
      },
      requestEmailVerification: async (_, __, ctx) => {
        const principal = requireAuth(ctx);
        if (principal.kind !== 'member') throw forbidden('requestEmailVerification needs a member token');
        stillAllowed(ctx, await ctx.loaders.member.load(principal.sub));
        return requestEmailVerification(deps, principal.sub);
      },
      verifyEmail: (_, { input }) => verifyEmail(deps, input.token),
      createStaffUser: (_, { input }, ctx) => {
        const actor = requirePermission(ctx, ADMIN_ONLY);
        return kit.uow((em) => createStaffUser(kit, em, actor.sub, input));
      },
      createApiClient: (_, { input }, ctx) => {
        const actor = requirePermission(ctx, ADMIN_ONLY);
        return kit.uow((em) => createApiClient(em, actor.sub, input));
      },
      clientToken: (_, { input }) => clientToken(kit, input),
      recordOrder: async (_, { input }, ctx) => {
        const actor = requirePermission(ctx, RECORD_ORDER);
        return (await recordOne(actor.sub, input)).order;
      },
      importMembers: async (_, { input }, ctx) => {
        const actor = requirePermission(ctx, IMPORT);
        if (input.rows.length < 1 || input.rows.length > MAX_IMPORT_ROWS) throw badField('rows', `a batch has 1 to ${MAX_IMPORT_ROWS} rows`);
        const now = new Date();
        for (let attempt = 1; ; attempt++) {
          try {
            return await kit.uow((em) => importMembers(deps, em, actor.sub, input.rows, now));
          } catch (err) {
            // A member registered (or an address taken) between our lookup and the INSERT: the whole
            // batch rolled back; read again and that phone becomes a merge.
            if (!isDuplicateKey(err) || attempt >= IMPORT_ATTEMPTS) throw err;
          }
        }
      },
      recordOrders: async (_, { input }, ctx) => {
        const actor = requirePermission(ctx, RECORD_ORDER);
        if (input.length < 1 || input.length > MAX_BATCH) throw badField('input', `a batch has 1 to ${MAX_BATCH} orders`);
        const results = [];
        // One after another, each in its own unit of work: an item's tier upgrade is seen by the next.
        for (const [index, item] of input.entries()) {
          try {
            const { order, created } = await recordOne(actor.sub, item);
            results.push({ index, status: created ? ('CREATED' as const) : ('DUPLICATE' as const), reason: null, code: null, field: null, order });
          } catch (err) {
            if (!(err instanceof AppError)) {
              kit.log.error({ err, index }, 'recordOrders item failed');
              results.push({ index, status: 'REJECTED' as const, reason: 'internal error: retry this item', code: ErrorCode.INTERNAL_SERVER_ERROR, field: null, order: null });
              continue;
            }
            const ext = err.extensions as { code?: string; field?: string };
            results.push({ index, status: 'REJECTED' as const, reason: err.message, code: ext.code ?? null, field: ext.field ?? null, order: null });
          }
        }
        return results;
      },
      recordRefund: async (_, { input }, ctx) => {
        const actor = requirePermission(ctx, RECORD_ORDER);
        try {
          return await kit.uow((em) => recordRefund(kit, em, actor.sub, input));
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          // The same (source, refundId) committed first for another order: a replay, or CONFLICT.
          const existing = await findRecordedRefund(kit.ds.manager, input);
          if (!existing) throw err;
          return existing;
        }
      },
      updateTierLadder: async (_, { input }, ctx) => {
        const actor = requirePermission(ctx, ADMIN_ONLY);
        const ladder = await kit.uow((em) => updateTierLadder(em, actor.sub, input.tiers));
        deps.ladder.invalidate();
        return ladder;
      },
      setMemberTier: (_, { input }, ctx) => {
        const actor = requirePermission(ctx, SET_TIER);
        return kit.uow((em) => setMemberTier(kit, em, actor.sub, input));
      },
      runTierEvaluation: (_, { asOf }, ctx) => {
        const actor = requirePermission(ctx, ADMIN_ONLY);
        if (asOf.getTime() < Date.UTC(2000, 0, 1)) throw badField('asOf', 'asOf must be after 2000-01-01');
        return runTierEvaluation(kit, actor.sub, asOf);
      },
      runTierDowngradeWarnings: (_, { asOf }, ctx) => {
        const actor = requirePermission(ctx, ADMIN_ONLY);
        if (asOf.getTime() < Date.UTC(2000, 0, 1)) throw badField('asOf', 'asOf must be after 2000-01-01');
        return runTierDowngradeWarnings(kit, actor.sub, asOf);
      },
      runBirthdayJob: (_, { asOf }, ctx) => {
        const actor = requirePermission(ctx, ADMIN_ONLY);
        if (asOf.getTime() < Date.UTC(2000, 0, 1)) throw badField('asOf', 'asOf must be after 2000-01-01');
        return runBirthdayJob(kit, actor.sub, asOf);
      },
      eraseMember: (_, { input }, ctx) => {
        // The right to erasure is the member's own (even when BLACKLISTED); among staff only ADMIN may.
        const actor = requireMemberAccess(ctx, input.memberId, ADMIN_ONLY);
        return kit.uow((em) => eraseMember(kit, em, actor.sub, input));
      },
      tagMember: (_, { input }, ctx) => {
        const actor = requirePermission(ctx, TAG);
        const tag = validTag(input.tag);
        return kit.uow((em) => setManualTag(kit, em, actor.sub, input.memberId, tag, true));
      },
      untagMember: (_, { input }, ctx) => {
        const actor = requirePermission(ctx, TAG);
        const tag = validTag(input.tag);
        return kit.uow((em) => setManualTag(kit, em, actor.sub, input.memberId, tag, false));
      },
      updateConsents: async (_, { input }, ctx) => {
        const actor = requireMemberAccess(ctx, input.memberId, EDIT_CONSENTS);
        stillAllowed(ctx, await ctx.loaders.member.load(input.memberId));
        const consents = validateConsents(input.consents);
        return kit.uow((em) => updateConsents(kit, em, { sub: actor.sub, staff: actor.kind !== 'member' }, input.memberId, consents));
      },
      updateProfile: async (_, { input }, ctx) => {
        const actor = requireMemberAccess(ctx, input.memberId, EDIT_PROFILE);
        stillAllowed(ctx, await ctx.loaders.member.load(input.memberId));
        const patch = validateProfile(input);
        return kit.uow((em) => updateProfile(kit, deps.vault, em, { sub: actor.sub, staff: actor.kind !== 'member' }, input.memberId, patch));
      },
      changeMemberStatus: (_, { input }, ctx) => {
        const actor = requirePermission(ctx, CHANGE_STATUS);
        return kit.uow((em) => changeMemberStatus(kit, em, actor.sub, input));
      },
    },
    Member: {
      __resolveReference: async (ref, ctx) => {
        requireMemberAccess(ctx, ref.id, STAFF_READ);
        return stillAllowed(ctx, await ctx.loaders.member.load(ref.id));
      },
      phone: async (m, _, ctx) => (await piiOf(m, ctx)).phone,
      name: async (m, _, ctx) => (await piiOf(m, ctx)).name,
      email: async (m, _, ctx) => (await piiOf(m, ctx)).email ?? null,
      birthday: async (m, _, ctx) => (await piiOf(m, ctx)).birthday ?? null,
      gender: async (m, _, ctx) => ((await piiOf(m, ctx)).gender ?? null) as Gender | null,
      tags: (m, _, ctx) => {
        requireMemberAccess(ctx, m.id, STAFF_READ);
        return ctx.loaders.tags.load(m.id);
      },
      identities: async (m, _, ctx) => {
        requireMemberAccess(ctx, m.id, STAFF_READ);
        const clear = maySeePii(ctx.principal, m.id);
        const rows = await ctx.loaders.identities.load(m.id);
        // Account ids are personal data: staff reading them in clear is audited like phone and name.
        if (clear && rows.length && ctx.principal && ctx.principal.kind !== 'member' && m.status !== 'ERASED') await ctx.loaders.piiRead(ctx.principal.sub, m.id, ctx.requestId);
        return presentIdentities(deps.vault, m, rows, clear);
      },
      consents: async (m, _, ctx) => {
        requireMemberAccess(ctx, m.id, STAFF_READ);
        return currentConsents(await consentHistory(kit.ds.manager, m.id));
      },
      tier: async (m) => required(await deps.ladder.tier(m.tierCode), `tier ${m.tierCode}`),
      growth: async (m, _, ctx) => (await ctx.loaders.standing.load(m.id)).growth,
      annualSpend: async (m, _, ctx) => (await ctx.loaders.standing.load(m.id)).annualSpend,
      orders: (m, args, ctx) => {
        requireMemberAccess(ctx, m.id, STAFF_READ);
        return orderPage(m.id, args.first, args.after);
      },
    },
    MemberTag: {
      source: (t) => t.source as TagSource,
    },
    TierChange: {
      from: (t) => t.fromTier,
      to: (t) => t.toTier,
    },
    Consent: {
      purpose: (c) => c.purpose as ConsentPurpose,
      channel: (c) => c.channel as ConsentChannel,
    },
    Order: {
      __resolveReference: async (ref, ctx) => {
        const order = await ctx.loaders.order.load(ref.id);
        if (order) requireMemberAccess(ctx, order.memberId, STAFF_READ);
        return order;
      },
      member: async (o, _, ctx) => required(await ctx.loaders.member.load(o.memberId), `member ${o.memberId}`),
    },
    Refund: {
      order: async (r, _, ctx) => required(await ctx.loaders.order.load(r.orderId), `order ${r.orderId}`),
    },
    StaffUser: {
      roles: (u) => u.roles.split(',') as Role[],
    },
  };
}

/** A BLACKLISTED or ERASED member's token still verifies until it expires, but no longer reaches their data. */
function stillAllowed(ctx: { principal: { kind: string } | null }, row: MemberRow | null): MemberRow | null {
  if (row && ctx.principal?.kind === 'member' && LOCKED_OUT.has(row.status)) throw forbidden();
  return row;
}

/**
 * A member's PII as this caller may see it; reading it in clear as staff (ADMIN, SUPPORT) writes a
 * `member.pii_read` audit row first, once per request and member (batched across fields and members).
 */
async function piiOf(m: MemberRow, ctx: Ctx): Promise<MemberPii> {
  const clear = maySeePii(ctx.principal, m.id);
  if (clear && ctx.principal && ctx.principal.kind !== 'member' && m.status !== 'ERASED') await ctx.loaders.piiRead(ctx.principal.sub, m.id, ctx.requestId);
  return presentPii(ctx.loaders.pii(m), clear);
}

/** A row that must exist because another row points at it; a miss is a broken invariant, not user error. */
function required<T>(row: T | null, what: string): T {
  if (!row) throw new Error(`${what} is missing`);
  return row;
}

/** One vault per service instance (keys parsed once). */
export function vaultOf(kit: ServiceKit<MemberConfig>): PiiVault {
  return depsOf(kit).vault;
}

export { memberLoaders, type MemberLoaders } from './loaders';
