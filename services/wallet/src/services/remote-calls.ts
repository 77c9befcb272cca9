import { AppError, ErrorCode, callRequest, type Bus } from '@membergraph/platform';
import {
  MarketingRpc,
  MemberRpc,
  PointsRefundRpc,
  PointsRpc,
  couponLockReply,
  pointsHoldReply,
  refundHoldReply,
  type CouponLockReply,
  type CouponPaymentRequest,
  type LockCouponRequest,
  type RefundHoldReply,
  type RefundHoldRequest,
  verifyOtpReply,
  birthMonthReply,
  type BirthMonthReply,
  type BirthMonthRequest,
  type HoldPointsRequest,
  type PointsHoldReply,
  type ResolveHoldRequest,
  type VerifyOtpReply,
  type VerifyOtpRequest,
} from '@membergraph/contracts';

/**
 * The outcome of a call to another service. `refused`: it answered with a business error (the
 * request had no effect). `unreachable`: no answer; `delivered: false` only when NATS reported no
 * responders (nobody got it), otherwise the effect is unknown and the call must be repeated.
 */
export type Remote<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'refused'; code: string; message: string }
  | { kind: 'unreachable'; delivered: boolean; message: string };

function isNoResponders(err: unknown): boolean {
  const e = err as { isNoResponders?: () => boolean; cause?: { name?: string } } | null;
  return Boolean(e && ((typeof e.isNoResponders === 'function' && e.isNoResponders()) || e.cause?.name === 'NoRespondersError'));
}

async function remote<T>(call: () => Promise<unknown>, parse: (raw: unknown) => T): Promise<Remote<T>> {
  let raw: unknown;
  try {
    raw = await call();
  } catch (err) {
    // The responder's own failure says nothing about whether it acted: treat it like silence.
    if (err instanceof AppError && err.extensions.code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      return { kind: 'refused', code: String(err.extensions.code), message: err.message };
    }
    return { kind: 'unreachable', delivered: !isNoResponders(err), message: err instanceof Error ? err.message : String(err) };
  }
  try {
    return { kind: 'ok', value: parse(raw) };
  } catch (err) {
    // An answer we cannot read: the effect is unknown.
    return { kind: 'unreachable', delivered: true, message: `malformed reply: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The points service's hold RPCs (packages/contracts/src/points.ts). */
export interface PointsPort {
  hold(req: HoldPointsRequest): Promise<Remote<PointsHoldReply>>;
  capture(req: ResolveHoldRequest): Promise<Remote<PointsHoldReply>>;
  release(req: ResolveHoldRequest): Promise<Remote<PointsHoldReply>>;
  /** Gives back points a captured hold spent (a payment refund); idempotent per (holdId, refundId). */
  refundHold(req: RefundHoldRequest): Promise<Remote<RefundHoldReply>>;
}

/** The marketing service's coupon locking (packages/contracts/src/marketing.ts); every call idempotent per (couponCode, paymentId). */
export interface CouponPort {
  lock(req: LockCouponRequest): Promise<Remote<CouponLockReply>>;
  redeem(req: CouponPaymentRequest): Promise<Remote<CouponLockReply>>;
  release(req: CouponPaymentRequest): Promise<Remote<CouponLockReply>>;
  restore(req: CouponPaymentRequest): Promise<Remote<CouponLockReply>>;
}

/** The member service's OTP check and the birth month the birthday-month top-up bonus needs. */
export interface MemberPort {
  verifyOtp(req: VerifyOtpRequest): Promise<Remote<VerifyOtpReply>>;
  birthMonth(req: BirthMonthRequest): Promise<Remote<BirthMonthReply>>;
}

export function pointsOverNats(bus: () => Bus, timeoutMs: number): PointsPort {
  const call = (name: string, req: unknown) => remote(() => callRequest(bus(), name, req, timeoutMs), (r) => pointsHoldReply.parse(r));
  return {
    hold: (req) => call(PointsRpc.Hold, req),
    capture: (req) => call(PointsRpc.Capture, req),
    release: (req) => call(PointsRpc.Release, req),
    refundHold: (req) => remote(() => callRequest(bus(), PointsRefundRpc.RefundHold, req, timeoutMs), (r) => refundHoldReply.parse(r)),
  };
}

export function couponsOverNats(bus: () => Bus, timeoutMs: number): CouponPort {
  const call = (name: string, req: unknown) => remote(() => callRequest(bus(), name, req, timeoutMs), (r) => couponLockReply.parse(r));
  return {
    lock: (req) => call(MarketingRpc.LockCoupon, req),
    redeem: (req) => call(MarketingRpc.RedeemCoupon, req),
    release: (req) => call(MarketingRpc.ReleaseCoupon, req),
    restore: (req) => call(MarketingRpc.RestoreCoupon, req),
  };
}

export function memberOverNats(bus: () => Bus, timeoutMs: number): MemberPort {
  return {
    verifyOtp: (req) => remote(() => callRequest(bus(), MemberRpc.VerifyOtp, req, timeoutMs), (r) => verifyOtpReply.parse(r)),
    birthMonth: (req) => remote(() => callRequest(bus(), MemberRpc.BirthMonth, req, timeoutMs), (r) => birthMonthReply.parse(r)),
  };
}
