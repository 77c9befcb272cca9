/**
 * Events the marketing service publishes. They belong in @membergraph/contracts beside the member
 * events; they live here until that package grows them (packages/ was out of this change's scope).
 */
import { z } from 'zod';

export const MarketingEventType = {
  CouponIssued: 'coupon.issued',
} as const;

/** A coupon was issued to a member. Ids only: read the coupon through the graph. */
export const couponIssued = z.object({
  couponId: z.string().min(1),
  memberId: z.string().min(1),
  templateId: z.string().min(1),
});
export type CouponIssued = z.infer<typeof couponIssued>;
