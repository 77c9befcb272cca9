import { In, type EntityManager } from 'typeorm';
import { audit, badField, notFound, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { MemberConfig } from '../config';
import { MemberEntity, type MemberRow } from '../entities/member.entity';
import { OtpCodeEntity } from '../entities/otp-code.entity';
import { ConsentEntity } from '../entities/consent.entity';
import { MemberTagEntity } from '../entities/member-tag.entity';
import { BirthdayNoticeEntity } from '../entities/birthday-notice.entity';
import { SentMessageEntity } from '../entities/sent-message.entity';
import { MemberIdentityEntity } from '../entities/member-identity.entity';
import { EmailVerificationEntity } from '../entities/email-verification.entity';
import { lockMember } from './tier.service';

/** Everything that identifies a person, cleared on erasure (the data key first: without it no copy can be read). */
const SHREDDED: Partial<MemberRow> = {
  dataKey: null,
  phoneIndex: null,
  phoneEnc: null,
  nameEnc: null,
  nameIndex: null,
  emailIndex: null,
  emailEnc: null,
  birthdayEnc: null,
  birthMd: null,
  genderEnc: null,
  emailVerifiedAt: null,
};

/**
 * Right to erasure by crypto-shredding: the member's wrapped data key is destroyed, so every copy
 * of their ciphertext that outlives this row (exports, copied rows) is unreadable (database backups
 * taken BEFORE still hold the wrapped key: see README, Privacy);
 * the blind indexes go too, so nobody finds them by phone, name or email and the phone may register
 * again as a new member. Codes and messages sent to their phone, email or WeChat, consents, tags,
 * social identities and email verification links are deleted.
 * Orders and refunds stay, keyed only by the (now anonymous) member id, so ledger totals add up.
 * Audited, and announced as `member.status_changed` (to ERASED, for consumers that only follow
 * status) and `member.erased` (every service erases its copy). Erasing again changes nothing.
 */
export async function eraseMember(
  kit: ServiceKit<MemberConfig>,
  em: EntityManager,
  actor: string,
  input: { memberId: string; reason: string },
): Promise<MemberRow> {
  const reason = input.reason.trim();
  if (reason.length < 1 || reason.length > 500) throw badField('reason', 'reason must be 1-500 characters');
  const member = await lockMember(em, input.memberId);
  if (!member) throw notFound('Member');
  if (member.status === 'ERASED') return member;

  const identities = em.getRepository(MemberIdentityEntity);
  const bound = await identities.find({ select: { openIdIndex: true }, where: { memberId: member.id } });
  // Messages are found by the same blind indexes as the member: phone, email, WeChat openIds.
  const indexes = [member.phoneIndex, member.emailIndex, ...bound.map((b) => b.openIdIndex)].filter((v): v is string => Boolean(v));
  if (member.phoneIndex) await em.getRepository(OtpCodeEntity).delete({ phoneIndex: member.phoneIndex });
  if (indexes.length) await em.getRepository(SentMessageEntity).delete({ toIndex: In(indexes) });
  // Consents belong to a person who no longer exists (marketing drops its copy on member.erased).
  await em.getRepository(ConsentEntity).delete({ memberId: member.id });
  // Tags describe the person (behaviour, preferences): they go too.
  await em.getRepository(MemberTagEntity).delete({ memberId: member.id });
  // Social identities and verification links point at the person: the next social login finds nobody.
  await identities.delete({ memberId: member.id });
  await em.getRepository(EmailVerificationEntity).delete({ memberId: member.id });
  // With its business date a birthday notice tells the birthday: it goes with the birthday.
  await em.getRepository(BirthdayNoticeEntity).delete({ memberId: member.id });

  const from = member.status;
  const erasedAt = new Date();
  const patch: Partial<MemberRow> = { ...SHREDDED, status: 'ERASED', erasedAt };
  await em.getRepository(MemberEntity).update({ id: member.id }, patch);
  Object.assign(member, patch);

  await audit(em, actor, 'member.erase', member.id, { from, reason });
  const at = erasedAt.toISOString();
  await kit.publishMany<unknown>(em, [
    {
      type: EventType.MemberStatusChanged,
      subject: member.id,
      data: checkedData(EventType.MemberStatusChanged, { memberId: member.id, from: from as 'ACTIVE', to: 'ERASED', changedAt: at }),
    },
    { type: EventType.MemberErased, subject: member.id, data: checkedData(EventType.MemberErased, { memberId: member.id, erasedAt: at }) },
  ]);
  return member;
}
