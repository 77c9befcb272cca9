import { forbidden, signToken, Role } from '@membergraph/platform';
import type { MemberDeps } from './deps';
import { consumeOtp, invalidCode, memberByPhoneIndex, phoneOrBadInput, requireOtp } from './otp.service';

/** Statuses that keep a member out, however they log in (DOMAIN.md: FROZEN no spending/earning, BLACKLISTED no access). */
export const LOGIN_REFUSED = new Set(['FROZEN', 'BLACKLISTED', 'ERASED']);

/** A member token: kind `member`, role MEMBER, `sub` = member id. */
export const memberToken = (deps: MemberDeps, memberId: string) =>
  signToken(deps.kit.tokens, { sub: memberId, kind: 'member', roles: [Role.MEMBER], scopes: [] }, deps.kit.config.MEMBER_TOKEN_TTL_SECONDS);

/** Logs a member in with a LOGIN code: the code is checked (and counted) first, so status is never revealed without it. */
export async function memberLogin(deps: MemberDeps, input: { phone: string; otp: string }) {
  const phone = phoneOrBadInput(input.phone);
  const phoneIndex = deps.vault.phoneIndex(phone);
  const otpId = await requireOtp(deps, phoneIndex, 'LOGIN', input.otp);
  const member = await deps.kit.uow(async (em) => {
    const member = await memberByPhoneIndex(em, phoneIndex);
    if (!member) throw invalidCode('NO_CODE');
    if (LOGIN_REFUSED.has(member.status)) throw forbidden(`This membership is ${member.status.toLowerCase()}`);
    await consumeOtp(em, otpId);
    return member;
  });
  return memberToken(deps, member.id);
}
