/**
 * Events the points service publishes. They belong in @membergraph/contracts beside the member
 * events; they live here until that package grows them (packages/ was out of this change's scope).
 */
import { z } from 'zod';

export const PointsEventType = {
  PointsEarned: 'points.earned',
} as const;

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
