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
