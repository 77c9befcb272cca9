import type { EntityManager } from 'typeorm';
import { audit, badField, conflict, isDuplicateKey, notFound, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { MemberConfig } from '../config';
import { MemberEntity, type MemberRow } from '../entities/member.entity';
import { GENDERS, completesProfile, normalizeBirthday, normalizeEmail } from '../domain/profile';
import type { PiiVault, ProfilePatch } from './pii.service';
import { lockMember } from './tier.service';

export interface UpdateProfileInput {
  memberId: string;
  name?: string | null;
  email?: string | null;
  birthday?: string | null;
  gender?: string | null;
}

/** Checks and normalises a profile change (omitted and null fields stay as they are), or BAD_USER_INPUT naming the field. */
export function validateProfile(input: UpdateProfileInput, now = new Date()): ProfilePatch {
  const patch: ProfilePatch = {};
  if (input.name != null) {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 64) throw badField('name', 'name must be 1 to 64 characters');
    patch.name = name;
  }
  if (input.email != null) {
    const email = normalizeEmail(input.email);
    if (!email) throw badField('email', 'email is not a valid email address');
    patch.email = email;
  }
  if (input.birthday != null) {
    const birthday = normalizeBirthday(input.birthday, now);
    if (!birthday) throw badField('birthday', 'birthday must be a past date as YYYY-MM-DD');
    patch.birthday = birthday;
  }
  if (input.gender != null) {
    if (!GENDERS.has(input.gender)) throw badField('gender', 'gender must be FEMALE, MALE, OTHER or UNDISCLOSED');
    patch.gender = input.gender;
  }
  return patch;
}

const emailTaken = () => conflict('Another member uses this email address', { field: 'email' });

/**
 * Applies a profile change under the member's row lock, re-encrypting only what changed under the
 * member's own data key. Staff changes are audited with the names of the fields changed (never
 * their values: the audit log outlives erasure). The first time name, email and birthday are all
 * present, `member.profile_completed` goes out in the same transaction, once per member.
 */
export async function updateProfile(
  kit: ServiceKit<MemberConfig>,
  vault: PiiVault,
  em: EntityManager,
  actor: { sub: string; staff: boolean },
  memberId: string,
  patch: ProfilePatch,
): Promise<MemberRow> {
  const member = await lockMember(em, memberId);
  if (!member || member.status === 'ERASED') throw notFound('Member');
  const before = vault.open(member);
  const changed = (Object.keys(patch) as Array<keyof ProfilePatch>).filter((k) => patch[k] !== (before[k] ?? null));
  if (!changed.length) return member;
  const members = em.getRepository(MemberEntity);
  const sealed = vault.reseal(member, Object.fromEntries(changed.map((k) => [k, patch[k]])));
  if (sealed.emailIndex && (await members.existsBy({ emailIndex: sealed.emailIndex }))) throw emailTaken();

  const after = { ...before, ...patch };
  const now = new Date();
  const completed = completesProfile(member.profileCompletedAt !== null, after);
  const update: Partial<MemberRow> = { ...sealed, profileUpdatedAt: now, ...(completed ? { profileCompletedAt: now } : {}) };
  // A new address is unproven: verification starts over (links sent to the old one become stale).
  if (changed.includes('email')) update.emailVerifiedAt = null;
  try {
    await members.update({ id: member.id }, update);
  } catch (err) {
    // Another member took the address between the check and the write: the unique index decides.
    if (isDuplicateKey(err)) throw emailTaken();
    throw err;
  }
  Object.assign(member, update);
  if (actor.staff) await audit(em, actor.sub, 'member.profile_update', member.id, { fields: changed });
  if (completed) {
    await kit.publish(
      em,
      EventType.MemberProfileCompleted,
      member.id,
      checkedData(EventType.MemberProfileCompleted, { memberId: member.id, completedAt: now.toISOString() }),
    );
  }
  return member;
}
