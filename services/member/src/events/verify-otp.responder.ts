import { AppError, serveRequests } from '@membergraph/platform';
import { MemberRpc, verifyOtpRequest, type VerifyOtpReply } from '@membergraph/contracts';
import { MemberEntity } from '../entities/member.entity';
import type { MemberDeps } from '../services/deps';
import { checkOtp, consumeOtp } from '../services/otp.service';
import { normalizePhone } from '../domain/phone';

/** Purposes other services may verify over NATS; REGISTER and LOGIN codes stay inside this service. */
const RPC_PURPOSES = new Set(['PAYMENT']);

/**
 * Verifies and consumes a code for another service (the wallet's second verification). Attempts
 * are counted exactly as through GraphQL, so the RPC path gives no extra tries.
 */
export async function verifyOtpRequestHandler(deps: MemberDeps, raw: unknown): Promise<VerifyOtpReply> {
  const parsed = verifyOtpRequest.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: 'INVALID_REQUEST' };
  const req = parsed.data;
  if (!RPC_PURPOSES.has(req.purpose)) return { ok: false, reason: 'PURPOSE_NOT_ALLOWED' };
  const members = deps.kit.ds.getRepository(MemberEntity);
  let member;
  if (req.phone) {
    const phone = normalizePhone(req.phone);
    if (!phone) return { ok: false, reason: 'INVALID_REQUEST' };
    member = await members.findOneBy({ phoneIndex: deps.vault.phoneIndex(phone) });
  } else {
    member = await members.findOneBy({ id: req.memberId! });
  }
  if (!member) return { ok: false, reason: 'NO_CODE' };
  if (member.status !== 'ACTIVE' || !member.phoneIndex) return { ok: false, reason: 'MEMBER_NOT_ACTIVE' };
  const check = await checkOtp(deps, member.phoneIndex, req.purpose, req.code);
  if (!check.ok) return { ok: false, reason: check.reason };
  try {
    await deps.kit.uow((em) => consumeOtp(em, check.otpId));
  } catch (err) {
    if (err instanceof AppError) return { ok: false, reason: 'USED' };
    throw err;
  }
  return { ok: true, reason: null };
}

/** Serves `rpc.member.verify_otp` for the wallet's second verification (see the kit's serveRequests). */
export function serveVerifyOtp(deps: MemberDeps) {
  return serveRequests(deps.kit.bus, MemberRpc.VerifyOtp, (raw: unknown) => verifyOtpRequestHandler(deps, raw), deps.kit.log, `${deps.kit.bus.prefix}member`);
}
