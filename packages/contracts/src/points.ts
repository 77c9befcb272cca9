/** Events of the points service (stream POINTS). */
import { z } from 'zod';
import { id } from './common';

export const PointsEventType = {
  PointsEarned: 'points.earned',
} as const;

export const pointsEarned = z.object({
  memberId: id,
  /** The ledger entry that recorded the earning. */
  entryId: id,
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

export const pointsEventSchemas = {
  [PointsEventType.PointsEarned]: pointsEarned,
} as const;
