import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { AuditEntryEntity, badField, conflict, currentTraceparent, enqueueEvents, insertMany, isDuplicateKey, newId, type NewEvent } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import { MemberEntity, type MemberRow } from '../entities/member.entity';
import { normalizePhone } from '../domain/phone';
import { isProfileComplete, normalizeBirthday, normalizeEmail } from '../domain/profile';
import { REFERRAL_CODE_RULE, normalizeReferralCode } from '../domain/referral';
import type { MemberPii, PiiVault } from './pii.service';
import type { MemberDeps } from './deps';

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

/** What the registry reaches through. */
export type RegistryDeps = Pick<MemberDeps, 'kit' | 'vault' | 'ladder'>;

/** The facts a new member's row is made of. */
export interface NewMemberFacts {
  id: string;
  pii: MemberPii;
  channel: string;
  tierCode: string;
  registeredAt: Date;
  registeredBy: string;
  /** As of when the profile is current, when not the registration itself (an import row's `updatedAt`). */
  profileUpdatedAt?: Date | null;
  referralCode: string | null;
}

/** A new member's row: PII sealed under its own data key; registering with name, email and birthday completes the profile at once. */
export function newMemberRow(vault: PiiVault, f: NewMemberFacts): MemberRow {
  return {
    id: f.id,
    ...vault.seal(f.id, f.pii),
    channel: f.channel,
    status: 'ACTIVE',
    tierCode: f.tierCode,
    tierChangedAt: null,
    tierUpgradedAt: null,
    registeredAt: f.registeredAt,
    registeredBy: f.registeredBy,
    profileCompletedAt: isProfileComplete(f.pii) ? f.registeredAt : null,
    profileUpdatedAt: f.profileUpdatedAt ?? null,
    erasedAt: null,
    ruleTagsAt: null,
    emailVerifiedAt: null,
    referralCode: f.referralCode,
  };
}

/**
 * The events announcing a new member: `member.registered` (with `channel` as announced: IMPORT for
 * bulk loads) and, when registration completed the profile, `member.profile_completed`.
 */
export function newMemberEvents(source: string, row: MemberRow, channel: string, traceparent?: string): Array<NewEvent<unknown>> {
  const registered: NewEvent<unknown> = {
    type: EventType.MemberRegistered,
    source,
    subject: row.id,
    data: checkedData(EventType.MemberRegistered, {
      memberId: row.id,
      channel: channel as 'STORE',
      tier: row.tierCode,
      registeredAt: row.registeredAt.toISOString(),
      ...(row.referralCode ? { referralCode: row.referralCode } : {}),
    }),
    ...(traceparent ? { traceparent } : {}),
  };
  return row.profileCompletedAt ? [registered, profileCompletedEvent(source, row.id, row.profileCompletedAt, traceparent)] : [registered];
}

/** `member.profile_completed` for a member whose name, email and birthday are now all there. */
export function profileCompletedEvent(source: string, memberId: string, completedAt: Date, traceparent?: string): NewEvent<unknown> {
  return {
    type: EventType.MemberProfileCompleted,
    source,
    subject: memberId,
    data: checkedData(EventType.MemberProfileCompleted, { memberId, completedAt: completedAt.toISOString() }),
    ...(traceparent ? { traceparent } : {}),
  };
}

/** One registration: who registers, what, and the trace of the request that asked (its events carry it). */
export interface Registration {
  actor: string;
  input: ValidRegistration;
  traceparent?: string;
}

/**
 * Registers members in the caller's unit of work: their rows, audit entries and events in one
 * multi-row INSERT each. One member per phone number (and per email): the unique blind indexes
 * decide, also between concurrent registrations, so a taken phone or email fails the whole INSERT
 * with a duplicate key (`registerMember` turns that into CONFLICT; `RegistrationQueue` re-runs a
 * batch one registration at a time). Rows come back in the order asked.
 */
export async function registerMembers(deps: RegistryDeps, em: EntityManager, registrations: readonly Registration[]): Promise<MemberRow[]> {
  const { kit, vault } = deps;
  const tier = await deps.ladder.entry();
  const registeredAt = new Date();
  const rows = registrations.map(({ actor, input }) =>
    newMemberRow(vault, {
      id: newId(),
      pii: { phone: input.phone, name: input.name, email: input.email, birthday: input.birthday },
      channel: input.channel,
      tierCode: tier.code,
      registeredAt,
      registeredBy: actor,
      referralCode: input.referralCode,
    }),
  );
  await insertMany(em, MemberEntity, rows);
  await insertMany(
    em,
    AuditEntryEntity,
    rows.map((row, i) => {
      const { actor, input } = registrations[i]!;
      return { id: newId(), actor, action: 'member.register', target: row.id, detail: JSON.stringify({ channel: input.channel, self: actor === SELF }), at: registeredAt };
    }),
  );
  await enqueueEvents(
    em,
    rows.flatMap((row, i) => newMemberEvents(kit.name, row, row.channel, registrations[i]!.traceparent)),
  );
  return rows;
}

/** Registers one member: CONFLICT when the phone (or email) has a member already. */
export async function registerMember(
  deps: RegistryDeps,
  em: EntityManager,
  actor: string,
  input: ValidRegistration,
  traceparent = currentTraceparent(),
): Promise<MemberRow> {
  try {
    const [row] = await registerMembers(deps, em, [{ actor, input, traceparent }]);
    return row!;
  } catch (err) {
    // The unique blind indexes decide (the message names the duplicate value).
    if (isDuplicateKey(err)) throw input.email && String((err as Error).message).includes(deps.vault.emailIndex(input.email)) ? emailTaken() : phoneTaken();
    throw err;
  }
}

/** The actor recorded for a member who registered themself with a REGISTER code. */
export const SELF = 'self';

/** Members by id, in the order asked (missing ones as null): the batch function of the member loader. */
export async function membersByIds(em: EntityManager, ids: readonly string[]): Promise<Array<MemberRow | null>> {
  const rows = await em.getRepository(MemberEntity).findBy({ id: In([...ids]) });
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}
