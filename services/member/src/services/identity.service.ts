import { In, type EntityManager } from 'typeorm';
import { AppError, ErrorCode, audit, badField, conflict, forbidden, isDuplicateKey, newId, notFound } from '@membergraph/platform';
import { MemberIdentityEntity, type MemberIdentityRow } from '../entities/member-identity.entity';
import type { MemberRow } from '../entities/member.entity';
import { decideBind, isAuthCodeShaped, providerFamily, type SocialIdentityProof, type SocialProvider } from '../domain/identity';
import { maskIdentifier } from '../domain/mask';
import type { MemberDeps } from './deps';
import type { PiiVault } from './pii.service';
import { lockMember } from './tier.service';
import { lockThrottleKey } from './throttle.service';
import { LOGIN_REFUSED, memberToken } from './member-auth.service';

/** The stable reason of a social login whose identity no member has bound (with `hint: "bindIdentity"`). */
export const IDENTITY_NOT_BOUND = 'IDENTITY_NOT_BOUND';

const PROVIDER_NAMES: Record<SocialProvider, string> = { WECHAT: 'WeChat', ALIPAY: 'Alipay' };

/**
 * The ids behind an authorisation code, through the provider adapter: a malformed code is
 * BAD_USER_INPUT, one the provider refuses UNAUTHENTICATED (`reason: INVALID_CODE`).
 */
export async function proveIdentity(deps: MemberDeps, provider: SocialProvider, code: string): Promise<SocialIdentityProof> {
  if (!isAuthCodeShaped(code)) throw badField('code', 'code must be the 1-512 character authorisation code the provider’s SDK returned');
  const proof = await deps.social.exchange(provider, code);
  if (!proof) throw new AppError(ErrorCode.UNAUTHENTICATED, `${PROVIDER_NAMES[provider]} did not accept this code`, { field: 'code', reason: 'INVALID_CODE' });
  return proof;
}

interface IdentityKeys {
  provider: SocialProvider;
  openIdIndex: string;
  unionIdIndex: string | null;
}

const keysOf = (vault: PiiVault, provider: SocialProvider, proof: SocialIdentityProof): IdentityKeys => ({
  provider,
  openIdIndex: vault.openIdIndex(provider, proof.openId),
  unionIdIndex: proof.unionId ? vault.unionIdIndex(providerFamily(provider), proof.unionId) : null,
});

/**
 * Binds an identity to a member (locked by the caller), under the unionId's lock so two members
 * cannot take the same person's unionId at once (domain/identity.ts `decideBind`). Binding what is
 * already bound to this member changes nothing (but records a unionId the row lacked). Audited
 * (`member.identity_bind`, provider only: the ids are personal data and the audit log outlives erasure).
 */
async function bindLocked(
  vault: PiiVault,
  em: EntityManager,
  actor: string,
  member: MemberRow,
  proof: SocialIdentityProof,
  keys: IdentityKeys,
  via: 'bindIdentity' | 'socialLogin',
): Promise<void> {
  if (keys.unionIdIndex) await lockThrottleKey(em, vault.keyIndex('identity-union', keys.unionIdIndex));
  const repo = em.getRepository(MemberIdentityEntity);
  const sameOpenId = await repo.findOneBy({ provider: keys.provider, openIdIndex: keys.openIdIndex });
  const family = providerFamily(keys.provider);
  const rows = await repo
    .createQueryBuilder('i')
    .where('i.memberId = :memberId', { memberId: member.id })
    .orWhere(keys.unionIdIndex ? 'i.unionIdIndex = :unionIdIndex' : '1 = 0', { unionIdIndex: keys.unionIdIndex })
    .getMany();
  // unionId indexes are per family already; the member's own rows are narrowed to this family here.
  const familyRows = rows.filter((r) => r.memberId !== member.id || providerFamily(r.provider as SocialProvider) === family);
  const decision = decideBind(member.id, keys.unionIdIndex, sameOpenId, familyRows);
  if (decision.kind === 'CONFLICT') throw conflict(decision.message, { field: 'code', reason: decision.reason });
  if (decision.kind === 'ALREADY_BOUND') {
    if (decision.learnUnion && sameOpenId) {
      const sealed = vault.sealIdentity(member, sameOpenId.id, proof);
      await repo.update({ id: sameOpenId.id }, { unionIdIndex: keys.unionIdIndex, unionIdEnc: sealed.unionIdEnc });
    }
    return;
  }
  const id = newId();
  const row: MemberIdentityRow = {
    id,
    provider: keys.provider,
    openIdIndex: keys.openIdIndex,
    unionIdIndex: keys.unionIdIndex,
    ...vault.sealIdentity(member, id, proof),
    memberId: member.id,
    boundAt: new Date(),
    boundBy: actor,
  };
  try {
    await repo.insert(row);
  } catch (err) {
    // Another member bound the same account between our read and the insert: the unique key decides.
    if (isDuplicateKey(err)) throw conflict('This account is bound to another member', { field: 'code', reason: 'IDENTITY_TAKEN' });
    throw err;
  }
  await audit(em, actor, 'member.identity_bind', member.id, { provider: keys.provider, via });
}

/**
 * Binds the identity a code proves to `memberId` (the member themself, or staff for them), in the
 * caller's unit of work. CONFLICT (`field: code`) when the account (or the same person's unionId)
 * belongs to another member, or this member holds another person's account of the family.
 */
export async function bindIdentity(
  deps: MemberDeps,
  em: EntityManager,
  actor: string,
  memberId: string,
  provider: SocialProvider,
  proof: SocialIdentityProof,
): Promise<MemberRow> {
  const member = await lockMember(em, memberId);
  if (!member || member.status === 'ERASED') throw notFound('Member');
  await bindLocked(deps.vault, em, actor, member, proof, keysOf(deps.vault, provider, proof), 'bindIdentity');
  return member;
}

/**
 * Logs a member in with a WeChat/Alipay authorisation code. The member is found by the identity
 * (provider, openId) or, for another app of the same person, by its unionId within the provider
 * family: that new openId is then bound too, so the next login finds it directly. No member:
 * NOT_FOUND with `reason: IDENTITY_NOT_BOUND` and `hint: bindIdentity`. FROZEN, BLACKLISTED and
 * ERASED members are FORBIDDEN, as for memberLogin.
 */
export async function socialLogin(deps: MemberDeps, input: { provider: SocialProvider; code: string }) {
  const { kit, vault } = deps;
  const proof = await proveIdentity(deps, input.provider, input.code);
  const keys = keysOf(vault, input.provider, proof);
  const attempt = () =>
    kit.uow(async (em) => {
      const repo = em.getRepository(MemberIdentityEntity);
      const bound = await repo.findOneBy({ provider: keys.provider, openIdIndex: keys.openIdIndex });
      const sibling = !bound && keys.unionIdIndex ? await repo.findOne({ where: { unionIdIndex: keys.unionIdIndex }, order: { id: 'ASC' } }) : null;
      const memberId = bound?.memberId ?? sibling?.memberId;
      if (!memberId) {
        throw new AppError(
          ErrorCode.NOT_FOUND,
          `No member is bound to this ${PROVIDER_NAMES[input.provider]} account: register (registerMember) or log in and bind it (bindIdentity)`,
          { field: 'code', reason: IDENTITY_NOT_BOUND, hint: 'bindIdentity' },
        );
      }
      const member = await lockMember(em, memberId);
      if (!member) throw new Error(`identity of missing member ${memberId}`);
      if (LOGIN_REFUSED.has(member.status)) throw forbidden(`This membership is ${member.status.toLowerCase()}`);
      if (!bound) await bindLocked(vault, em, member.id, member, proof, keys, 'socialLogin');
      return member;
    });
  let member: MemberRow;
  try {
    member = await attempt();
  } catch (err) {
    // A concurrent login of the same new app bound it first: now it is found directly.
    if (!(err instanceof AppError && err.extensions.reason === 'IDENTITY_TAKEN')) throw err;
    member = await attempt();
  }
  return memberToken(deps, member.id);
}

/** Bound identities of members, oldest first per member (the batch function of the identities loader). */
export async function identitiesOf(em: EntityManager, memberIds: readonly string[]): Promise<Map<string, MemberIdentityRow[]>> {
  const rows = await em.getRepository(MemberIdentityEntity).find({ where: { memberId: In([...memberIds]) }, order: { id: 'ASC' } });
  const out = new Map<string, MemberIdentityRow[]>();
  for (const r of rows) out.set(r.memberId, [...(out.get(r.memberId) ?? []), r]);
  return out;
}

/** An identity as a caller sees it. */
export interface PresentedIdentity {
  provider: SocialProvider;
  openId: string;
  unionId: string | null;
  boundAt: Date;
}

/** A member's identities, the ids in clear or masked (`maskIdentifier`); none once erased. */
export function presentIdentities(vault: PiiVault, member: MemberRow, rows: readonly MemberIdentityRow[], clear: boolean): PresentedIdentity[] {
  return rows.flatMap((r) => {
    const ids = vault.openIdentity(member, r);
    if (!ids) return [];
    const show = (v: string) => (clear ? v : maskIdentifier(v));
    return [{ provider: r.provider as SocialProvider, openId: show(ids.openId), unionId: ids.unionId ? show(ids.unionId) : null, boundAt: r.boundAt }];
  });
}
