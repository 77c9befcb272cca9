/** Events of the member service (stream MEMBER). */
import { z } from 'zod';
import { channel, id, isoTime } from './common';

export const MemberEventType = {
  MemberRegistered: 'member.registered',
  OrderCompleted: 'order.completed',
  OrderRefunded: 'order.refunded',
  MemberTierChanged: 'member.tier_changed',
  MemberStatusChanged: 'member.status_changed',
  MemberErased: 'member.erased',
  MemberProfileCompleted: 'member.profile_completed',
  MemberConsentsChanged: 'member.consents_changed',
  MemberTagsChanged: 'member.tags_changed',
  MemberTierDowngradeWarning: 'member.tier_downgrade_warning',
  MemberBirthdayUpcoming: 'member.birthday_upcoming',
} as const;

const tierCode = z.string().min(1);
const memberStatus = z.enum(['ACTIVE', 'FROZEN', 'BLACKLISTED', 'ERASED']);

export const memberRegistered = z.object({
  memberId: id,
  channel,
  tier: z.string().min(1),
  registeredAt: isoTime,
  /** The inviter's referral code given at registration, as typed (marketing resolves and rewards it). */
  referralCode: z.string().min(1).max(32).nullable().optional(),
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

/**
 * A member was erased (right to erasure): their data key is destroyed, so every copy of their PII is
 * unreadable. Every service erases what it holds about `memberId`, keeping only anonymous totals.
 */
export const memberErased = z.object({
  memberId: id,
  erasedAt: isoTime,
});
export type MemberErased = z.infer<typeof memberErased>;

/** Name, email and birthday became all present for the first time (once per member; completion earns points). */
export const memberProfileCompleted = z.object({
  memberId: id,
  completedAt: isoTime,
});
export type MemberProfileCompleted = z.infer<typeof memberProfileCompleted>;

/** Purposes a member consents to, per channel. */
export const consentPurpose = z.enum(['MARKETING', 'ANALYTICS', 'PERSONALIZATION', 'THIRD_PARTY_SHARING']);
/** Channels a consent covers. */
export const consentChannel = z.enum(['SMS', 'EMAIL', 'PUSH', 'WECHAT']);

/** A member's consents changed; `consents` lists only what changed, each with its new value (marketing keeps the latest per purpose and channel). */
export const memberConsentsChanged = z.object({
  memberId: id,
  consents: z
    .array(
      z.object({
        purpose: consentPurpose,
        channel: consentChannel,
        granted: z.boolean(),
        /** The privacy policy version the member saw. */
        policyVersion: z.string().min(1),
      }),
    )
    .min(1),
  changedAt: isoTime,
});
export type MemberConsentsChanged = z.infer<typeof memberConsentsChanged>;

/**
 * A member's tags of one source, as a complete set after the change (so a late redelivery of an older
 * set can be recognised by `changedAt` and ignored). MANUAL sets come from the member service (staff);
 * RULE sets come from analytics (`source` of the envelope: analytics) and the member service applies them.
 */
export const memberTagsChanged = z.object({
  memberId: id,
  source: z.enum(['MANUAL', 'RULE']),
  /** Every tag of this source the member now has (may be empty). */
  tags: z.array(z.string().min(1).max(64)).max(200),
  changedAt: isoTime,
});
export type MemberTagsChanged = z.infer<typeof memberTagsChanged>;

/**
 * The next tier evaluation (at `evaluationAt`) would move the member down from `currentTier` to
 * `projectedTier` unless they earn more: sent once per member and evaluation, 30 days ahead by default.
 */
export const memberTierDowngradeWarning = z.object({
  memberId: id,
  currentTier: tierCode,
  projectedTier: tierCode,
  evaluationAt: isoTime,
  warnedAt: isoTime,
});
export type MemberTierDowngradeWarning = z.infer<typeof memberTierDowngradeWarning>;

/**
 * The member's birthday is `daysAhead` days after `businessDate` (tenant time zone, YYYY-MM-DD):
 * once per member and `year`. Carries no birth date beyond what the timing itself implies.
 */
export const memberBirthdayUpcoming = z.object({
  memberId: id,
  year: z.number().int().min(1900).max(9999),
  businessDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  daysAhead: z.number().int().min(0).max(366),
});
export type MemberBirthdayUpcoming = z.infer<typeof memberBirthdayUpcoming>;

export const memberEventSchemas = {
  [MemberEventType.MemberRegistered]: memberRegistered,
  [MemberEventType.OrderCompleted]: orderCompleted,
  [MemberEventType.OrderRefunded]: orderRefunded,
  [MemberEventType.MemberTierChanged]: memberTierChanged,
  [MemberEventType.MemberStatusChanged]: memberStatusChanged,
  [MemberEventType.MemberErased]: memberErased,
  [MemberEventType.MemberProfileCompleted]: memberProfileCompleted,
  [MemberEventType.MemberConsentsChanged]: memberConsentsChanged,
  [MemberEventType.MemberTagsChanged]: memberTagsChanged,
  [MemberEventType.MemberTierDowngradeWarning]: memberTierDowngradeWarning,
  [MemberEventType.MemberBirthdayUpcoming]: memberBirthdayUpcoming,
} as const;

/**
 * Request/reply subjects the member service answers (prefix them with `bus.subject`). Not events:
 * nothing is stored, a caller that gets no answer within its timeout must treat it as a failure.
 */
export const MemberRpc = {
  /** Verifies and consumes a PAYMENT one-time code (single use, counted like any other attempt). */
  VerifyOtp: 'rpc.member.verify_otp',
  /** The month (1-12, tenant calendar) of a member's birthday, for birthday-month rules; null when unknown or erased. */
  BirthMonth: 'rpc.member.birth_month',
} as const;

export const birthMonthRequest = z.object({ memberId: id });
export type BirthMonthRequest = z.infer<typeof birthMonthRequest>;

export const birthMonthReply = z.object({ month: z.number().int().min(1).max(12).nullable() });
export type BirthMonthReply = z.infer<typeof birthMonthReply>;

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
