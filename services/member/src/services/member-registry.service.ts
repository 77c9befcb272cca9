import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { audit, badField, conflict, isDuplicateKey, newId, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import { MemberEntity, type MemberRow } from '../entities/member.entity';
import { TierEntity } from '../entities/tier.entity';
import { normalizePhone } from '../domain/phone';
import { isProfileComplete, normalizeBirthday, normalizeEmail } from '../domain/profile';
import { entryTier } from '../domain/tiers';
import { REFERRAL_CODE_RULE, normalizeReferralCode } from '../domain/referral';
import type { PiiVault } from './pii.service';

export interface RegisterMemberInput {
  phone: string;
  name: string;
  channel: string;
  birthday?: string | null;
  email?: string | null;
  referralCode?: string | null;
}

/** Registration input checked and normalised; nothing is written before this succeeds. */
export interface ValidRegistration {
  phone: string;
  name: string;
  channel: string;
  email: string | null;
  birthday: string | null;
  /** The inviter's referral code, as typed (trimmed). */
  referralCode: string | null;
}

/** Normalises and checks a registration, or BAD_USER_INPUT naming the field. */
export function validateRegistration(input: RegisterMemberInput, now = new Date()): ValidRegistration {
  const phone = normalizePhone(input.phone);
  if (!phone) throw badField('phone', 'phone is not a valid phone number');
  const name = input.name.trim();
  if (name.length < 1 || name.length > 64) throw badField('name', 'name must be 1 to 64 characters');
  let email: string | null = null;
  if (input.email !== undefined && input.email !== null) {
    email = normalizeEmail(input.email);
    if (!email) throw badField('email', 'email is not a valid email address');
  }
  let birthday: string | null = null;
  if (input.birthday !== undefined && input.birthday !== null) {
    birthday = normalizeBirthday(input.birthday, now);
    if (!birthday) throw badField('birthday', 'birthday must be a past date as YYYY-MM-DD');
  }
  let referralCode: string | null = null;
  if (input.referralCode !== undefined && input.referralCode !== null) {
    referralCode = normalizeReferralCode(input.referralCode);
    if (!referralCode) throw badField('referralCode', REFERRAL_CODE_RULE);
  }
  return { phone, name, channel: input.channel, email, birthday, referralCode };
}

const phoneTaken = () => conflict('A member with this phone number already exists; log in instead', { field: 'phone', hint: 'memberLogin' });
const emailTaken = () => conflict('Another member uses this email address', { field: 'email' });

/** Registers a member: one per phone number (and per email), announced as `member.registered`. */
export async function registerMember(
  kit: ServiceKit,
  vault: PiiVault,
  em: EntityManager,
  actor: string,
  input: ValidRegistration,
): Promise<MemberRow> {
  const { phone, name, email, birthday } = input;
  const members = em.getRepository(MemberEntity);
  if (await members.existsBy({ phoneIndex: vault.phoneIndex(phone) })) throw phoneTaken();
  if (email && (await members.existsBy({ emailIndex: vault.emailIndex(email) }))) throw emailTaken();
  const tier = entryTier(await em.getRepository(TierEntity).find());
  const id = newId();
  const row: MemberRow = {
    id,
    ...vault.seal(id, { phone, name, email, birthday }),
    channel: input.channel,
    status: 'ACTIVE',
    tierCode: tier.code,
    tierChangedAt: null,
    tierUpgradedAt: null,
    registeredAt: new Date(),
    registeredBy: actor,
    // Registering with name, email and birthday completes the profile at once.
    profileCompletedAt: null,
    erasedAt: null,
    ruleTagsAt: null,
    profileUpdatedAt: null,
    emailVerifiedAt: null,
    referralCode: input.referralCode,
  };
  if (isProfileComplete({ name, email, birthday })) row.profileCompletedAt = row.registeredAt;
  try {
    await members.insert(row);
  } catch (err) {
    // Two registrations raced past the checks: the unique blind indexes decide (the message names the duplicate value).
    if (isDuplicateKey(err)) throw row.emailIndex && String((err as Error).message).includes(row.emailIndex) ? emailTaken() : phoneTaken();
    throw err;
  }
  await audit(em, actor, 'member.register', id, { channel: input.channel, self: actor === SELF });
  await kit.publish(
    em,
    EventType.MemberRegistered,
    id,
    checkedData(EventType.MemberRegistered, {
      memberId: id,
      channel: row.channel as 'STORE',
      tier: tier.code,
      registeredAt: row.registeredAt.toISOString(),
      ...(input.referralCode ? { referralCode: input.referralCode } : {}),
    }),
  );
  if (row.profileCompletedAt) {
    await kit.publish(
      em,
      EventType.MemberProfileCompleted,
      id,
      checkedData(EventType.MemberProfileCompleted, { memberId: id, completedAt: row.profileCompletedAt.toISOString() }),
    );
  }
  return row;
}

/** The actor recorded for a member who registered themself with a REGISTER code. */
export const SELF = 'self';

/** Members by id, in the order asked (missing ones as null): the batch function of the member loader. */
export async function membersByIds(em: EntityManager, ids: readonly string[]): Promise<Array<MemberRow | null>> {
  const rows = await em.getRepository(MemberEntity).findBy({ id: In([...ids]) });
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}
