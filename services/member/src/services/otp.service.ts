import { randomInt } from 'node:crypto';
import { MoreThan, type EntityManager } from 'typeorm';
import { AppError, ErrorCode, badField, forbidden, isAllowed, newId, requireAuth, Role, type RequestContext } from '@membergraph/platform';
import { MemberEntity, type MemberRow } from '../entities/member.entity';
import { OtpCodeEntity, type OtpCodeRow } from '../entities/otp-code.entity';
import { attemptAllowed, expiryOf, isOtpShaped, newOtpCode, type OtpPolicy, type OtpPurpose, type OtpRefusal } from '../domain/otp';
import { throttle, type RateWindow } from '../domain/throttle';
import { normalizePhone } from '../domain/phone';
import type { MemberDeps } from './deps';
import { lockThrottleKey, rateLimited } from './throttle.service';

const MINUTE = 60_000;

export const otpPolicy = (deps: MemberDeps): OtpPolicy => ({
  ttlMs: deps.kit.config.OTP_TTL_SECONDS * 1000,
  maxAttempts: deps.kit.config.OTP_MAX_ATTEMPTS,
});

// The minute window is per phone AND purpose (a REGISTER code right after registering must not
// block the LOGIN code that follows); the daily budget is per phone, all purposes together.
const purposeWindows = (deps: MemberDeps): RateWindow[] => [{ limit: deps.kit.config.OTP_PHONE_PER_MINUTE, windowMs: MINUTE }];
const phoneWindows = (deps: MemberDeps): RateWindow[] => [{ limit: deps.kit.config.OTP_PHONE_PER_DAY, windowMs: 24 * 60 * MINUTE }];

/** The phone throttle: both windows, the longer wait wins. */
function phoneDecision(deps: MemberDeps, sends: Array<{ createdAt: Date; purpose: string }>, purpose: string, now: Date) {
  const sameWait = throttle(sends.filter((s) => s.purpose === purpose).map((s) => s.createdAt), purposeWindows(deps), now);
  const allWait = throttle(sends.map((s) => s.createdAt), phoneWindows(deps), now);
  const waits = [sameWait, allWait].map((d) => (d.allowed ? 0 : d.retryAfterMs));
  const wait = Math.max(...waits);
  return wait > 0 ? { allowed: false as const, retryAfterMs: wait } : { allowed: true as const };
}
const ipWindows = (deps: MemberDeps): RateWindow[] => [{ limit: deps.kit.config.OTP_IP_PER_HOUR, windowMs: 60 * MINUTE }];

/** Who may ask for a PAYMENT code: the paying member themself, or staff at the till. */
const PAYMENT_OTP_STAFF = { roles: [Role.OPERATOR, Role.SUPPORT, Role.FINANCE], scopes: ['payments:write'] };

/** The E.164 form of `phone`, or BAD_USER_INPUT naming `field`. */
export function phoneOrBadInput(phone: string, field = 'phone'): string {
  const e164 = normalizePhone(phone);
  if (!e164) throw badField(field, `${field} is not a valid phone number`);
  return e164;
}

async function sends(em: EntityManager, where: { phoneIndex: string } | { ipIndex: string }, since: Date) {
  return em.getRepository(OtpCodeEntity).find({ select: { createdAt: true, purpose: true }, where: { ...where, createdAt: MoreThan(since) } });
}

/**
 * Issues a code for (phone, purpose): throttled per phone and per IP, stored as a keyed hash, sent
 * after commit. LOGIN and PAYMENT codes are recorded but not sent when no active member has the
 * phone, so the answer does not tell who is registered.
 */
export async function requestOtp(deps: MemberDeps, ctx: RequestContext, input: { phone: string; purpose: OtpPurpose }) {
  const { kit, vault } = deps;
  const phone = phoneOrBadInput(input.phone);
  const phoneIndex = vault.phoneIndex(phone);
  if (input.purpose === 'PAYMENT') {
    const principal = requireAuth(ctx);
    if (principal.kind === 'member') {
      const self = await kit.ds.getRepository(MemberEntity).findOneBy({ id: principal.sub });
      if (!self || self.phoneIndex !== phoneIndex) throw forbidden('A member may ask for payment codes for their own phone only');
    } else if (!isAllowed(principal, PAYMENT_OTP_STAFF)) {
      throw forbidden();
    }
  }

  const policy = otpPolicy(deps);
  let now = new Date();
  const id = newId();
  const code = newOtpCode(randomInt);
  const ipIndex = ctx.clientIp ? vault.keyIndex('otp-ip', ctx.clientIp) : null;

  const { send, phoneSends } = await kit.uow(async (em) => {
    await lockThrottleKey(em, vault.keyIndex('otp-phone', phone));
    // The clock is read under the lock: a request that waited must see earlier holders' sends as past.
    now = new Date();
    const phoneSends = await sends(em, { phoneIndex }, new Date(now.getTime() - 24 * 60 * MINUTE));
    const byPhone = phoneDecision(deps, phoneSends, input.purpose, now);
    if (!byPhone.allowed) throw rateLimited('Too many codes requested for this phone; try again later', byPhone.retryAfterMs);
    if (ipIndex) {
      await lockThrottleKey(em, vault.keyIndex('otp-ip-lock', ctx.clientIp!));
      const ipSends = await sends(em, { ipIndex }, new Date(now.getTime() - 60 * MINUTE));
      const byIp = throttle(ipSends.map((s) => s.createdAt), ipWindows(deps), now);
      if (!byIp.allowed) throw rateLimited('Too many codes requested from this address; try again later', byIp.retryAfterMs);
    }
    let send = input.purpose === 'REGISTER';
    if (!send) {
      const member = await em.getRepository(MemberEntity).findOneBy({ phoneIndex });
      send = member?.status === 'ACTIVE';
    }
    const row: OtpCodeRow = {
      id,
      phoneIndex,
      purpose: input.purpose,
      codeHash: vault.otpHash(id, code),
      attempts: 0,
      expiresAt: expiryOf(now, policy),
      consumedAt: null,
      createdAt: now,
      ipIndex,
      sent: send,
    };
    await em.getRepository(OtpCodeEntity).insert(row);
    return { send, phoneSends };
  });

  // After commit: a message never leaves for a code that was rolled back.
  if (send) {
    const minutes = Math.round(policy.ttlMs / MINUTE);
    await deps.messages.send({
      channel: 'SMS',
      to: phone,
      body: `Your ${input.purpose.toLowerCase()} code is ${code}. It expires in ${minutes} minutes. Never share it.`,
    });
  }
  const next = phoneDecision(deps, [...phoneSends, { createdAt: now, purpose: input.purpose }], input.purpose, now);
  return { expiresAt: expiryOf(now, policy), retryAfter: new Date(now.getTime() + (next.allowed ? 0 : next.retryAfterMs)) };
}

export type OtpCheck = { ok: true; otpId: string } | { ok: false; reason: OtpRefusal };

/**
 * One verification attempt on the newest code for (phone, purpose). The attempt is counted and
 * committed BEFORE the code is compared, under a row lock, so parallel attempts (aliases, batches,
 * replicas) share the same budget. A match is not yet a use: call `consumeOtp` in the business
 * transaction.
 */
export async function checkOtp(deps: MemberDeps, phoneIndex: string, purpose: OtpPurpose, code: string): Promise<OtpCheck> {
  if (!isOtpShaped(code)) return { ok: false, reason: 'MISMATCH' };
  const policy = otpPolicy(deps);
  return deps.kit.uow(async (em) => {
    const repo = em.getRepository(OtpCodeEntity);
    const otp = await repo
      .createQueryBuilder('o')
      .where('o.phoneIndex = :phoneIndex AND o.purpose = :purpose', { phoneIndex, purpose })
      .orderBy('o.id', 'DESC')
      .limit(1)
      .setLock('pessimistic_write')
      .getOne();
    const allowed = attemptAllowed(otp, new Date(), policy);
    if (!allowed.ok) return allowed;
    await repo.increment({ id: otp!.id }, 'attempts', 1);
    return deps.vault.otpMatches(otp!.id, code, otp!.codeHash) ? { ok: true as const, otpId: otp!.id } : { ok: false as const, reason: 'MISMATCH' as const };
  });
}

/** Marks a matched code used, in the caller's transaction; a code someone else used meanwhile is refused. */
export async function consumeOtp(em: EntityManager, otpId: string): Promise<void> {
  const res = await em
    .getRepository(OtpCodeEntity)
    .createQueryBuilder()
    .update()
    .set({ consumedAt: new Date() })
    .where('id = :otpId AND consumed_at IS NULL', { otpId })
    .execute();
  if (!res.affected) throw invalidCode('USED');
}

export const invalidCode = (reason: OtpRefusal) =>
  new AppError(ErrorCode.UNAUTHENTICATED, 'Invalid or expired code', { field: 'otp', reason });

/** For GraphQL: a well-formed code that verifies, or BAD_USER_INPUT / UNAUTHENTICATED. Returns the code's id to consume. */
export async function requireOtp(deps: MemberDeps, phoneIndex: string, purpose: OtpPurpose, code: string): Promise<string> {
  if (!isOtpShaped(code)) throw badField('otp', 'otp must be 6 digits');
  const check = await checkOtp(deps, phoneIndex, purpose, code);
  if (!check.ok) throw invalidCode(check.reason);
  return check.otpId;
}

/** The member a phone belongs to, if any. */
export const memberByPhoneIndex = (em: EntityManager, phoneIndex: string): Promise<MemberRow | null> =>
  em.getRepository(MemberEntity).findOneBy({ phoneIndex });
