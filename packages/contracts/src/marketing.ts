/** Events of the marketing service (stream MARKETING). */
import { z } from 'zod';
import { id } from './common';

export const MarketingEventType = {
  CouponIssued: 'coupon.issued',
} as const;

/** A coupon was issued to a member. Ids only: read the coupon through the graph. */
export const couponIssued = z.object({
  couponId: id,
  memberId: id,
  templateId: id,
});
export type CouponIssued = z.infer<typeof couponIssued>;

export const marketingEventSchemas = {
  [MarketingEventType.CouponIssued]: couponIssued,
} as const;
