/**
 * Social identity rules (WeChat, Alipay): data in, data out. An identity is a provider's user id
 * (`openId`, one per app) and, when the provider links apps, a `unionId` shared by every app of
 * the same provider family (WeChat's open platform; Alipay's user id).
 */

export const SOCIAL_PROVIDERS = ['WECHAT', 'ALIPAY'] as const;
export type SocialProvider = (typeof SOCIAL_PROVIDERS)[number];

/**
 * The family whose apps share a unionId. One provider per family today; WeChat sub-apps (mini
 * program, official account, app) would become providers of the WECHAT family.
 */
export function providerFamily(provider: SocialProvider): string {
  return provider;
}

/** What a provider says about the person behind an authorisation code. */
export interface SocialIdentityProof {
  openId: string;
  unionId: string | null;
}

/** WeChat openIds are 28 characters, Alipay user ids 16 digits; this leaves room without accepting junk. */
const ID_SHAPE = /^[A-Za-z0-9_-]{1,128}$/;

export const isIdentityId = (value: string): boolean => ID_SHAPE.test(value);

/** An authorisation code as clients pass it on: 1-512 printable characters (providers' codes are opaque). */
export const isAuthCodeShaped = (code: string): boolean => /^[\x21-\x7e]{1,512}$/.test(code);

/**
 * The local (non-production) adapter's codes: `local:<openId>[:<unionId>]`, so tests and the dev
 * console can act as any WeChat or Alipay user. Null when `code` is not one.
 */
export function parseLocalCode(code: string): SocialIdentityProof | null {
  const parts = code.split(':');
  if (parts[0] !== 'local' || parts.length < 2 || parts.length > 3) return null;
  const [, openId, unionId] = parts as [string, string, string | undefined];
  if (!isIdentityId(openId)) return null;
  if (unionId !== undefined && !isIdentityId(unionId)) return null;
  return { openId, unionId: unionId ?? null };
}

/** The parts of a bound identity the binding rule looks at (blind indexes, never the ids themselves). */
export interface BoundIdentity {
  memberId: string;
  unionIdIndex: string | null;
}

export type BindDecision =
  | { kind: 'BIND' }
  /** Already bound to this member; `learnUnion` when the row lacks the unionId the provider now gives. */
  | { kind: 'ALREADY_BOUND'; learnUnion: boolean }
  | { kind: 'CONFLICT'; reason: 'IDENTITY_TAKEN' | 'UNION_TAKEN' | 'OTHER_ACCOUNT_BOUND'; message: string };

/**
 * Whether `memberId` may bind an identity with `unionIdIndex` (null when the provider gave none):
 * - the same (provider, openId) belongs to another member: IDENTITY_TAKEN;
 * - another member holds the unionId in this family (the same person's other app): UNION_TAKEN;
 * - this member already holds another person's unionId in this family: OTHER_ACCOUNT_BOUND.
 * `sameOpenId` is the row of the same (provider, openId), `family` the rows of this provider
 * family that either carry `unionIdIndex` or belong to `memberId`.
 */
export function decideBind(memberId: string, unionIdIndex: string | null, sameOpenId: BoundIdentity | null, family: readonly BoundIdentity[]): BindDecision {
  if (sameOpenId && sameOpenId.memberId !== memberId) {
    return { kind: 'CONFLICT', reason: 'IDENTITY_TAKEN', message: 'This account is bound to another member' };
  }
  if (unionIdIndex) {
    if (family.some((r) => r.unionIdIndex === unionIdIndex && r.memberId !== memberId)) {
      return { kind: 'CONFLICT', reason: 'UNION_TAKEN', message: 'This person’s account is bound to another member' };
    }
    if (family.some((r) => r.memberId === memberId && r.unionIdIndex !== null && r.unionIdIndex !== unionIdIndex)) {
      return { kind: 'CONFLICT', reason: 'OTHER_ACCOUNT_BOUND', message: 'This member is bound to another account of this provider' };
    }
  }
  if (sameOpenId) return { kind: 'ALREADY_BOUND', learnUnion: unionIdIndex !== null && sameOpenId.unionIdIndex === null };
  return { kind: 'BIND' };
}
