import type { z } from 'zod';
import { badField, serveRequests, type ServiceKit } from '@membergraph/platform';
import { MarketingRpc, couponPaymentRequest, lockCouponRequest, type CouponLockReply } from '@membergraph/contracts';
import type { MarketingConfig } from '../../config';
import { lockCoupon, redeemCoupon, releaseCoupon, restoreCoupon } from '../../services/coupon-lock.service';

/** Longest payment id the `coupon_use` and `coupon` tables keep. */
const MAX_PAYMENT_ID = 64;

/** The contract's shape, or BAD_USER_INPUT naming the first bad field. */
function parse<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') || 'request';
    throw badField(field, `${field}: ${issue?.message ?? 'invalid request'}`);
  }
  const data = parsed.data as { paymentId?: string };
  if (data.paymentId !== undefined && data.paymentId.length > MAX_PAYMENT_ID) throw badField('paymentId', `paymentId must be at most ${MAX_PAYMENT_ID} characters`);
  return parsed.data;
}

/** Request handlers of `MarketingRpc.*`, each one unit of work; errors travel back with their code. */
export function couponLockRpcHandlers(kit: ServiceKit<MarketingConfig>) {
  return {
    lock: (raw: unknown): Promise<CouponLockReply> => {
      const req = parse(lockCouponRequest, raw);
      return kit.uow((em) => lockCoupon(kit, em, req));
    },
    redeem: (raw: unknown): Promise<CouponLockReply> => {
      const req = parse(couponPaymentRequest, raw);
      return kit.uow((em) => redeemCoupon(kit, em, req));
    },
    release: (raw: unknown): Promise<CouponLockReply> => {
      const req = parse(couponPaymentRequest, raw);
      return kit.uow((em) => releaseCoupon(kit, em, req));
    },
    restore: (raw: unknown): Promise<CouponLockReply> => {
      const req = parse(couponPaymentRequest, raw);
      return kit.uow((em) => restoreCoupon(kit, em, req));
    },
  };
}

/**
 * Serves the checkout saga's coupon lock, redeem, release and restore (`MarketingRpc`) with one
 * queue group, so replicas share the requests. The subscriptions end when the bus drains at stop().
 */
export function serveCouponLockRequests(kit: ServiceKit<MarketingConfig>): Array<ReturnType<typeof serveRequests>> {
  const h = couponLockRpcHandlers(kit);
  const queue = `${kit.bus.prefix}marketing`;
  return [
    serveRequests(kit.bus, MarketingRpc.LockCoupon, h.lock, kit.log, queue),
    serveRequests(kit.bus, MarketingRpc.RedeemCoupon, h.redeem, kit.log, queue),
    serveRequests(kit.bus, MarketingRpc.ReleaseCoupon, h.release, kit.log, queue),
    serveRequests(kit.bus, MarketingRpc.RestoreCoupon, h.restore, kit.log, queue),
  ];
}
