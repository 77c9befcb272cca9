import { randomBytes } from 'node:crypto';
import { MoreThan } from 'typeorm';
import { AppError, ErrorCode, badField, conflict, newId, notFound } from '@membergraph/platform';
import { EmailVerificationEntity } from '../entities/email-verification.entity';
import { MemberEntity } from '../entities/member.entity';
import { EMAIL_TOKEN_BYTES, emailTokenCheck, isEmailTokenShaped, verificationLink, type EmailTokenRefusal } from '../domain/email-verification';
import { throttle, type RateWindow } from '../domain/throttle';
import { maskEmail } from '../domain/mask';
import type { MemberDeps } from './deps';
import { lockMember } from './tier.service';
import { rateLimited } from './throttle.service';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const windows = (deps: MemberDeps): RateWindow[] => [
  { limit: deps.kit.config.EMAIL_VERIFICATION_PER_MINUTE, windowMs: MINUTE },
  { limit: deps.kit.config.EMAIL_VERIFICATION_PER_DAY, windowMs: DAY },
];

const invalidToken = (reason: EmailTokenRefusal) =>
  new AppError(ErrorCode.UNAUTHENTICATED, 'Invalid or expired verification link', { field: 'token', reason });

/**
 * Sends a verification link for the member's email on file: a random single-use token, stored only
 * as a keyed hash and bound to that address, valid `EMAIL_VERIFICATION_TTL_SECONDS`. Throttled per
 * member (counted under the member row lock); the email leaves after commit.
 */
export async function requestEmailVerification(deps: MemberDeps, memberId: string) {
  const { kit, vault } = deps;
  const token = randomBytes(EMAIL_TOKEN_BYTES).toString('base64url');
  const ttlMs = kit.config.EMAIL_VERIFICATION_TTL_SECONDS * 1000;
  const sent = await kit.uow(async (em) => {
    const member = await lockMember(em, memberId);
    if (!member || member.status === 'ERASED') throw notFound('Member');
    const email = vault.open(member).email;
    if (!email || !member.emailIndex) throw badField('email', 'There is no email address on file: add one with updateProfile first');
    if (member.emailVerifiedAt) throw conflict('This email address is verified already', { field: 'email', reason: 'ALREADY_VERIFIED' });
    const now = new Date(); // read under the lock, so a request that waited sees the earlier sends as past
    const repo = em.getRepository(EmailVerificationEntity);
    const past = (await repo.find({ select: { createdAt: true }, where: { memberId, createdAt: MoreThan(new Date(now.getTime() - DAY)) } })).map((r) => r.createdAt);
    const decision = throttle(past, windows(deps), now);
    if (!decision.allowed) throw rateLimited('Too many verification emails requested; try again later', decision.retryAfterMs);
    const expiresAt = new Date(now.getTime() + ttlMs);
    await repo.insert({ id: newId(), memberId, tokenHash: vault.emailTokenHash(token), emailIndex: member.emailIndex, createdAt: now, expiresAt, consumedAt: null });
    const next = throttle([...past, now], windows(deps), now);
    return { email, expiresAt, retryAfter: new Date(now.getTime() + (next.allowed ? 0 : next.retryAfterMs)) };
  });

  // After commit: a link is never sent for a token that was rolled back.
  const hours = Math.round(ttlMs / 3_600_000);
  await deps.messages.send({
    channel: 'EMAIL',
    to: sent.email,
    body: `Confirm your email address: ${verificationLink(kit.config.EMAIL_VERIFICATION_URL, token)} (valid ${hours} hours). If you did not ask for this, ignore this message.`,
  });
  return { sentTo: sent.email, expiresAt: sent.expiresAt, retryAfter: sent.retryAfter };
}

/**
 * Verifies the member's email with a link's token: single use, unexpired, and only for the address
 * it was sent to (a token from before an email change is STALE). Anyone holding the link may use
 * it (it opens in a browser, often without the app's token). A wrong token writes nothing.
 */
export async function verifyEmail(deps: MemberDeps, token: string) {
  const { kit, vault } = deps;
  if (!isEmailTokenShaped(token)) throw badField('token', 'token is not a verification token');
  const tokenHash = vault.emailTokenHash(token);
  return kit.uow(async (em) => {
    const repo = em.getRepository(EmailVerificationEntity);
    const found = await repo.findOneBy({ tokenHash });
    if (!found) throw invalidToken('INVALID');
    // Member row first, then the token (the order requestEmailVerification takes them in).
    const member = await lockMember(em, found.memberId);
    const row = await repo.createQueryBuilder('v').where('v.id = :id', { id: found.id }).setLock('pessimistic_write').getOne();
    const now = new Date();
    const check = emailTokenCheck(row, member && member.status !== 'ERASED' ? member.emailIndex : null, now);
    if (!check.ok) throw invalidToken(check.reason);
    await repo.update({ id: row!.id }, { consumedAt: now });
    const verifiedAt = member!.emailVerifiedAt ?? now;
    if (!member!.emailVerifiedAt) await em.getRepository(MemberEntity).update({ id: member!.id }, { emailVerifiedAt: now });
    return { memberId: member!.id, email: maskEmail(vault.open(member!).email ?? ''), verifiedAt };
  });
}
