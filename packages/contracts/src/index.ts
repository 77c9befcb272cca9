/**
 * Event contracts between services: type names and the shape of `data`, validated on both ends.
 * Events carry ids and amounts, never PII. Changing a shape means a new `version`.
 */
import { z } from 'zod';
import { badInput, type EventEnvelope } from '@membergraph/platform';

export const EventType = {
  MemberRegistered: 'member.registered',
  OrderCompleted: 'order.completed',
  PointsEarned: 'points.earned',
  WalletOpened: 'wallet.opened',
  CouponIssued: 'coupon.issued',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

const isoTime = z.string().datetime({ offset: true });
const channel = z.enum(['STORE', 'WEB', 'APP', 'MINI_PROGRAM', 'SOCIAL', 'EVENT', 'IMPORT']);

export const memberRegistered = z.object({
  memberId: z.string().min(1),
  channel,
  tier: z.string().min(1),
  registeredAt: isoTime,
});
export type MemberRegistered = z.infer<typeof memberRegistered>;

export const orderCompleted = z.object({
  orderId: z.string().min(1),
  memberId: z.string().min(1),
  source: z.string().min(1),
  externalId: z.string().min(1),
  /** Paid amount in fen. */
  amount: z.number().int().nonnegative(),
  storeId: z.string().nullable(),
  channel,
  completedAt: isoTime,
});
export type OrderCompleted = z.infer<typeof orderCompleted>;

export const pointsEarned = z.object({
  memberId: z.string().min(1),
  /** The ledger entry that recorded the earning. */
  entryId: z.string().min(1),
  /** Points earned (positive). */
  amount: z.number().int().positive(),
  /** The balance right after the earning. */
  balance: z.number().int(),
  /** WELCOME, ORDER... */
  reason: z.string().min(1),
  /** The order id (ORDER) or announcing event id (WELCOME). */
  reference: z.string().nullable(),
});
export type PointsEarned = z.infer<typeof pointsEarned>;

export const walletOpened = z.object({
  memberId: z.string().min(1),
});
export type WalletOpened = z.infer<typeof walletOpened>;

/** A coupon was issued to a member. Ids only: read the coupon through the graph. */
export const couponIssued = z.object({
  couponId: z.string().min(1),
  memberId: z.string().min(1),
  templateId: z.string().min(1),
});
export type CouponIssued = z.infer<typeof couponIssued>;

const schemas = {
  [EventType.MemberRegistered]: memberRegistered,
  [EventType.OrderCompleted]: orderCompleted,
  [EventType.PointsEarned]: pointsEarned,
  [EventType.WalletOpened]: walletOpened,
  [EventType.CouponIssued]: couponIssued,
} as const;
type DataOf<T extends EventType> = z.infer<(typeof schemas)[T]>;

/** The validated `data` of an event of type `type`; a mismatch is a poison message. */
export function eventData<T extends EventType>(type: T, event: EventEnvelope): DataOf<T> {
  if (event.type !== type) throw new Error(`expected ${type}, got ${event.type}`);
  const parsed = schemas[type].safeParse(event.data);
  if (!parsed.success) throw badInput(`malformed ${type} event ${event.id}: ${parsed.error.message}`);
  return parsed.data as DataOf<T>;
}

/** Validates outgoing data against the contract before it enters the outbox. */
export function checkedData<T extends EventType>(type: T, data: DataOf<T>): DataOf<T> {
  return schemas[type].parse(data) as DataOf<T>;
}
