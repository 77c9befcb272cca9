/** Events of the member service (stream MEMBER). */
import { z } from 'zod';
import { channel, id, isoTime } from './common';

export const MemberEventType = {
  MemberRegistered: 'member.registered',
  OrderCompleted: 'order.completed',
} as const;

export const memberRegistered = z.object({
  memberId: id,
  channel,
  tier: z.string().min(1),
  registeredAt: isoTime,
});
export type MemberRegistered = z.infer<typeof memberRegistered>;

export const orderCompleted = z.object({
  orderId: id,
  memberId: id,
  source: z.string().min(1),
  externalId: z.string().min(1),
  /** Paid amount in fen. */
  amount: z.number().int().nonnegative(),
  storeId: z.string().nullable(),
  channel,
  completedAt: isoTime,
});
export type OrderCompleted = z.infer<typeof orderCompleted>;

export const memberEventSchemas = {
  [MemberEventType.MemberRegistered]: memberRegistered,
  [MemberEventType.OrderCompleted]: orderCompleted,
} as const;

/**
 * Request/reply subjects the member service answers (prefix them with `bus.subject`). Not events:
 * nothing is stored, a caller that gets no answer within its timeout must treat it as a failure.
 */
export const MemberRpc = {
  /** Verifies and consumes a PAYMENT one-time code (single use, counted like any other attempt). */
  VerifyOtp: 'rpc.member.verify_otp',
} as const;

export const verifyOtpRequest = z
  .object({
    phone: z.string().min(1).optional(),
    memberId: id.optional(),
    purpose: z.enum(['REGISTER', 'LOGIN', 'PAYMENT']),
    code: z.string().min(1),
  })
  .refine((r) => Boolean(r.phone) !== Boolean(r.memberId), { message: 'give exactly one of phone and memberId' });
export type VerifyOtpRequest = z.infer<typeof verifyOtpRequest>;

/** Why a code was refused: NO_CODE (none requested, or no such member), EXPIRED, USED, BURNED (too many wrong tries), MISMATCH, INVALID_REQUEST, PURPOSE_NOT_ALLOWED, MEMBER_NOT_ACTIVE (no spending while FROZEN...), ERROR (try again). */
export const verifyOtpReply = z.object({
  ok: z.boolean(),
  reason: z.enum(['NO_CODE', 'EXPIRED', 'USED', 'BURNED', 'MISMATCH', 'INVALID_REQUEST', 'PURPOSE_NOT_ALLOWED', 'MEMBER_NOT_ACTIVE', 'ERROR']).nullable(),
});
export type VerifyOtpReply = z.infer<typeof verifyOtpReply>;
