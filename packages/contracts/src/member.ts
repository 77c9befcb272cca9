/** Events of the member service (stream MEMBER). */
import { z } from 'zod';
import { channel, id, isoTime } from './common';

export const MemberEventType = {
  MemberRegistered: 'member.registered',
  OrderCompleted: 'order.completed',
  OrderRefunded: 'order.refunded',
  MemberTierChanged: 'member.tier_changed',
  MemberStatusChanged: 'member.status_changed',
} as const;

const tierCode = z.string().min(1);
const memberStatus = z.enum(['ACTIVE', 'FROZEN', 'BLACKLISTED', 'ERASED']);

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
  /** Order lines when the source sent them (category- and store-specific earning reads them). */
  lines: z
    .array(
      z.object({
        sku: z.string().min(1),
        category: z.string().nullable(),
        quantity: z.number().int().positive(),
        /** Line amount in fen. */
        amount: z.number().int().nonnegative(),
      }),
    )
    .optional(),
});
export type OrderCompleted = z.infer<typeof orderCompleted>;

/** A full or partial refund of a recorded order. */
export const orderRefunded = z.object({
  refundId: id,
  orderId: id,
  memberId: id,
  source: z.string().min(1),
  externalOrderId: z.string().min(1),
  /** This refund, in fen, > 0. */
  amount: z.number().int().positive(),
  /** All refunds of the order so far, this one included, in fen (<= orderAmount). */
  refundedTotal: z.number().int().positive(),
  /** The order's paid amount, in fen: consumers reverse proportionally with amount / orderAmount. */
  orderAmount: z.number().int().nonnegative(),
  refundedAt: isoTime,
});
export type OrderRefunded = z.infer<typeof orderRefunded>;

/** A member moved on the tier ladder. */
export const memberTierChanged = z.object({
  memberId: id,
  from: tierCode,
  to: tierCode,
  /** UPGRADE (threshold crossed), DOWNGRADE (periodic evaluation) or MANUAL (staff, audited). */
  reason: z.enum(['UPGRADE', 'DOWNGRADE', 'MANUAL']),
  changedAt: isoTime,
});
export type MemberTierChanged = z.infer<typeof memberTierChanged>;

/** A member's status changed (FROZEN members neither earn nor spend; BLACKLISTED have no access). */
export const memberStatusChanged = z.object({
  memberId: id,
  from: memberStatus,
  to: memberStatus,
  changedAt: isoTime,
});
export type MemberStatusChanged = z.infer<typeof memberStatusChanged>;

export const memberEventSchemas = {
  [MemberEventType.MemberRegistered]: memberRegistered,
  [MemberEventType.OrderCompleted]: orderCompleted,
  [MemberEventType.OrderRefunded]: orderRefunded,
  [MemberEventType.MemberTierChanged]: memberTierChanged,
  [MemberEventType.MemberStatusChanged]: memberStatusChanged,
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
