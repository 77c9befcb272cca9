import { createHmac, timingSafeEqual } from 'node:crypto';
import { blindIndex, decrypt, encrypt, newWrappedDataKey, parseKey, unwrapDataKey, Role, type Principal } from '@membergraph/platform';
import type { MemberRow } from '../entities/member.entity';
import type { SentMessageRow } from '../entities/sent-message.entity';
import type { MemberIdentityRow } from '../entities/member-identity.entity';
import { maskEmail, maskName, maskPhone } from '../domain/mask';
import { normalizeName } from '../domain/search';
import { birthMonthDay } from '../domain/birthday';

export interface MemberPii {
  phone: string;
  name: string;
  email?: string | null;
  birthday?: string | null;
  gender?: string | null;
}

/** What reads of an erased member show in place of phone and name (never an error). */
export const ERASED_PLACEHOLDER = '[erased]';
/** The PII of an erased member: placeholders, nothing else. */
export const ERASED_PII: MemberPii = { phone: ERASED_PLACEHOLDER, name: ERASED_PLACEHOLDER, email: null, birthday: null, gender: null };

type SealedPii = Pick<MemberRow, 'dataKey' | 'phoneEnc' | 'nameEnc' | 'nameIndex' | 'phoneIndex' | 'emailIndex' | 'emailEnc' | 'birthdayEnc' | 'birthMd' | 'genderEnc'>;

/** Profile fields a member or staff may change (the phone is the identity: not here). */
export type ProfilePatch = Partial<Pick<MemberPii, 'name' | 'email' | 'birthday' | 'gender'>>;

/**
 * Envelope encryption of member PII: each member has a data key wrapped by the master key (from
 * config, never stored), and phone lookups go through a keyed blind index.
 */
export class PiiVault {
  private readonly master: Buffer;
  private readonly index: Buffer;

  constructor(masterKey: string, indexKey: string) {
    this.master = parseKey(masterKey);
    this.index = parseKey(indexKey);
    // A subkey, so an OTP hash can never be confused with (or computed from) a blind index.
    this.otpKey = createHmac('sha256', this.index).update('membergraph:otp-hash').digest();
    this.emailTokenKey = createHmac('sha256', this.index).update('membergraph:email-token-hash').digest();
  }

  private readonly otpKey: Buffer;
  private readonly emailTokenKey: Buffer;

  /** Blind index of a social identity: provider and openId (an openId is only unique within its app). */
  openIdIndex(provider: string, openId: string): string {
    return blindIndex(this.index, `openid:${provider}:${openId}`);
  }

  /** Blind index of a unionId within its provider family (domain/identity.ts `providerFamily`). */
  unionIdIndex(family: string, unionId: string): string {
    return blindIndex(this.index, `unionid:${family}:${unionId}`);
  }

  /** Keyed hash of an email verification token (its own subkey): the table alone never verifies anything. */
  emailTokenHash(token: string): string {
    return createHmac('sha256', this.emailTokenKey).update(token).digest('hex');
  }

  /** A social identity's ids sealed under the member's data key, bound to the identity row. */
  sealIdentity(member: Pick<MemberRow, 'id' | 'dataKey'>, identityId: string, ids: { openId: string; unionId: string | null }): Pick<MemberIdentityRow, 'openIdEnc' | 'unionIdEnc'> {
    if (!member.dataKey) throw new Error(`member ${member.id} is erased: nothing to seal under`);
    const key = unwrapDataKey(this.master, member.dataKey, member.id);
    return {
      openIdEnc: encrypt(key, ids.openId, `${member.id}:identity:${identityId}:openId`),
      unionIdEnc: ids.unionId ? encrypt(key, ids.unionId, `${member.id}:identity:${identityId}:unionId`) : null,
    };
  }

  /** A bound identity's ids in clear; null once the member is erased. */
  openIdentity(member: Pick<MemberRow, 'id' | 'dataKey'>, row: Pick<MemberIdentityRow, 'id' | 'openIdEnc' | 'unionIdEnc'>): { openId: string; unionId: string | null } | null {
    if (!member.dataKey) return null;
    const key = unwrapDataKey(this.master, member.dataKey, member.id);
    return {
      openId: decrypt(key, row.openIdEnc, `${member.id}:identity:${row.id}:openId`),
      unionId: row.unionIdEnc ? decrypt(key, row.unionIdEnc, `${member.id}:identity:${row.id}:unionId`) : null,
    };
  }

  phoneIndex(e164: string): string {
    return blindIndex(this.index, `phone:${e164}`);
  }

  /** Blind index of a name for exact-match search; normalised here so callers cannot get it wrong. */
  nameIndex(name: string): string {
    return blindIndex(this.index, `name:${normalizeName(name)}`);
  }

  emailIndex(normalisedEmail: string): string {
    return blindIndex(this.index, `email:${normalisedEmail}`);
  }

  /** Keyed hash of anything used only as a throttle key (IP, username + IP): never stored in clear. */
  keyIndex(kind: string, value: string): string {
    return blindIndex(this.index, `${kind}:${value}`);
  }

  /** Keyed hash of a one-time code, bound to its row: a leaked table gives nothing to brute-force offline without the key. */
  otpHash(otpId: string, code: string): string {
    return createHmac('sha256', this.otpKey).update(`${otpId}:${code}`).digest('hex');
  }

  otpMatches(otpId: string, code: string, storedHash: string): boolean {
    const a = Buffer.from(this.otpHash(otpId, code), 'hex');
    const b = Buffer.from(storedHash, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Columns for a new member's encrypted PII. */
  seal(memberId: string, pii: MemberPii): SealedPii {
    const { key, wrapped } = newWrappedDataKey(this.master, memberId);
    return {
      dataKey: wrapped,
      phoneIndex: this.phoneIndex(pii.phone),
      phoneEnc: encrypt(key, pii.phone, `${memberId}:phone`),
      nameEnc: encrypt(key, pii.name, `${memberId}:name`),
      nameIndex: this.nameIndex(pii.name),
      emailIndex: pii.email ? this.emailIndex(pii.email) : null,
      emailEnc: pii.email ? encrypt(key, pii.email, `${memberId}:email`) : null,
      birthdayEnc: pii.birthday ? encrypt(key, pii.birthday, `${memberId}:birthday`) : null,
      // The one clear derivative: month and day, for the birthday job (README, Privacy).
      birthMd: birthMonthDay(pii.birthday),
      genderEnc: pii.gender ? encrypt(key, pii.gender, `${memberId}:gender`) : null,
    };
  }

  /** The columns that change when `patch` is applied to a member's profile (same data key). */
  reseal(row: Pick<MemberRow, 'id' | 'dataKey'>, patch: ProfilePatch): Partial<SealedPii> {
    if (!row.dataKey) throw new Error(`member ${row.id} is erased: nothing to reseal`);
    const key = unwrapDataKey(this.master, row.dataKey, row.id);
    const out: Partial<SealedPii> = {};
    if (patch.name !== undefined && patch.name !== null) {
      out.nameEnc = encrypt(key, patch.name, `${row.id}:name`);
      out.nameIndex = this.nameIndex(patch.name);
    }
    if (patch.email !== undefined) {
      out.emailEnc = patch.email ? encrypt(key, patch.email, `${row.id}:email`) : null;
      out.emailIndex = patch.email ? this.emailIndex(patch.email) : null;
    }
    if (patch.birthday !== undefined) {
      out.birthdayEnc = patch.birthday ? encrypt(key, patch.birthday, `${row.id}:birthday`) : null;
      out.birthMd = birthMonthDay(patch.birthday);
    }
    if (patch.gender !== undefined) out.genderEnc = patch.gender ? encrypt(key, patch.gender, `${row.id}:gender`) : null;
    return out;
  }

  /** The member's PII in clear; placeholders once erased (the data key is gone, so nothing can be decrypted). */
  open(row: Pick<MemberRow, 'id' | 'dataKey' | 'phoneEnc' | 'nameEnc'> & Partial<Pick<MemberRow, 'emailEnc' | 'birthdayEnc' | 'genderEnc'>>): MemberPii {
    if (!row.dataKey || !row.phoneEnc || !row.nameEnc) return ERASED_PII;
    const key = unwrapDataKey(this.master, row.dataKey, row.id);
    return {
      phone: decrypt(key, row.phoneEnc, `${row.id}:phone`),
      name: decrypt(key, row.nameEnc, `${row.id}:name`),
      email: row.emailEnc ? decrypt(key, row.emailEnc, `${row.id}:email`) : null,
      birthday: row.birthdayEnc ? decrypt(key, row.birthdayEnc, `${row.id}:birthday`) : null,
      gender: row.genderEnc ? decrypt(key, row.genderEnc, `${row.id}:gender`) : null,
    };
  }

  /** A recorded message, sealed under its own data key like member PII. */
  sealMessage(id: string, msg: { to: string; toIndex: string; body: string }): Pick<SentMessageRow, 'dataKey' | 'toIndex' | 'toEnc' | 'bodyEnc'> {
    const { key, wrapped } = newWrappedDataKey(this.master, `msg:${id}`);
    return { dataKey: wrapped, toIndex: msg.toIndex, toEnc: encrypt(key, msg.to, `${id}:to`), bodyEnc: encrypt(key, msg.body, `${id}:body`) };
  }

  openMessage(row: Pick<SentMessageRow, 'id' | 'dataKey' | 'toEnc' | 'bodyEnc'>): { to: string; body: string } {
    const key = unwrapDataKey(this.master, row.dataKey, `msg:${row.id}`);
    return { to: decrypt(key, row.toEnc, `${row.id}:to`), body: decrypt(key, row.bodyEnc, `${row.id}:body`) };
  }
}

/** ADMIN and SUPPORT see PII in clear, and a member sees their own; everyone else sees it masked. */
export function maySeePii(principal: Principal | null, memberId: string): boolean {
  if (!principal) return false;
  if (principal.kind === 'member') return principal.sub === memberId;
  return principal.roles.includes(Role.ADMIN) || principal.roles.includes(Role.SUPPORT);
}

export function presentPii(pii: MemberPii, clear: boolean): MemberPii {
  if (clear || pii === ERASED_PII) return pii;
  return { phone: maskPhone(pii.phone), name: maskName(pii.name), email: pii.email ? maskEmail(pii.email) : null, birthday: null, gender: null };
}
