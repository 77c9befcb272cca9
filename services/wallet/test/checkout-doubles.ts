/**
 * Test doubles of the OTHER services' request/reply answers (points holds, member OTP and birth
 * month, marketing coupons), served with the kit's serveRequests on the test's NATS prefix: our own
 * infrastructure stays real.
 */
import { AppError, Bus, ErrorCode, createLogger, newId, serveRequests } from '@membergraph/platform';
import {
  MarketingRpc,
  MemberRpc,
  PointsRefundRpc,
  PointsRpc,
  birthMonthRequest,
  couponPaymentRequest,
  holdPointsRequest,
  lockCouponRequest,
  refundHoldRequest,
  resolveHoldRequest,
  type BirthMonthReply,
  type CouponLockReply,
  type PointsHoldReply,
  type VerifyOtpReply,
} from '@membergraph/contracts';
import { natsUrl, type TestScope } from '@membergraph/testkit';

const log = createLogger('test-doubles', 'silent');

/** How the fake points service answers a call: normally, with an error, or not at all (a timeout). */
export type Behaviour = 'normal' | 'refuse' | 'silent';

export interface FakePoints {
  balances: Map<string, number>;
  holds: Map<string, PointsHoldReply & { key: string }>;
  calls: { hold: number; capture: number; release: number; refundHold: number };
  behaviour: { hold: Behaviour; capture: Behaviour; release: Behaviour; refundHold: Behaviour };
  /** Give-backs by `${holdId}:${refundId}`. */
  giveBacks: Map<string, number>;
  /** Points a member has, minus what is held. */
  available(memberId: string): number;
  close(): Promise<void>;
}

const never = () => new Promise<never>(() => undefined);

export async function fakePoints(scope: TestScope): Promise<FakePoints> {
  const bus = await Bus.connect({ url: natsUrl(), prefix: scope.prefix, name: 'fake-points', log });
  const balances = new Map<string, number>();
  const holds = new Map<string, PointsHoldReply & { key: string }>();
  const calls = { hold: 0, capture: 0, release: 0, refundHold: 0 };
  const behaviour: FakePoints['behaviour'] = { hold: 'normal', capture: 'normal', release: 'normal', refundHold: 'normal' };
  const giveBacks = new Map<string, number>();
  const held = (memberId: string) => [...holds.values()].filter((h) => h.memberId === memberId && h.status === 'HELD').reduce((s, h) => s + h.amount, 0);
  const available = (memberId: string) => (balances.get(memberId) ?? 0) - held(memberId);
  const reply = (h: PointsHoldReply & { key: string }): PointsHoldReply => ({ holdId: h.holdId, memberId: h.memberId, amount: h.amount, status: h.status, expiresAt: h.expiresAt });
  const find = (raw: unknown) => {
    const { holdId } = resolveHoldRequest.parse(raw);
    const h = holds.get(holdId);
    if (!h) throw new AppError(ErrorCode.NOT_FOUND, 'Hold not found');
    return h;
  };
  const subs = [
    serveRequests(bus, PointsRpc.Hold, async (raw: unknown) => {
      calls.hold++;
      if (behaviour.hold === 'silent') return never();
      if (behaviour.hold === 'refuse') throw new AppError(ErrorCode.BAD_USER_INPUT, 'refused by the test');
      const req = holdPointsRequest.parse(raw);
      const again = [...holds.values()].find((h) => h.key === req.idempotencyKey);
      if (again) return reply(again);
      if (available(req.memberId) < req.amount) throw new AppError(ErrorCode.INSUFFICIENT_FUNDS, 'Not enough points');
      const h = { holdId: newId(), memberId: req.memberId, amount: req.amount, status: 'HELD' as const, expiresAt: new Date(Date.now() + (req.ttlSeconds ?? 600) * 1000).toISOString(), key: req.idempotencyKey };
      holds.set(h.holdId, h);
      return reply(h);
    }, log),
    serveRequests(bus, PointsRpc.Capture, async (raw: unknown) => {
      calls.capture++;
      if (behaviour.capture === 'silent') return never();
      const h = find(raw);
      if (behaviour.capture === 'refuse') throw new AppError(ErrorCode.CONFLICT, 'The hold has expired');
      if (h.status === 'HELD') {
        h.status = 'CAPTURED';
        balances.set(h.memberId, (balances.get(h.memberId) ?? 0) - h.amount);
      } else if (h.status !== 'CAPTURED') throw new AppError(ErrorCode.CONFLICT, `The hold is ${h.status}`);
      return reply(h);
    }, log),
    serveRequests(bus, PointsRpc.Release, async (raw: unknown) => {
      calls.release++;
      if (behaviour.release === 'silent') return never();
      const h = find(raw);
      if (h.status === 'HELD') h.status = 'RELEASED';
      else if (h.status === 'CAPTURED') throw new AppError(ErrorCode.CONFLICT, 'The hold was captured');
      return reply(h);
    }, log),
    serveRequests(bus, PointsRefundRpc.RefundHold, async (raw: unknown) => {
      calls.refundHold++;
      if (behaviour.refundHold === 'silent') return never();
      const req = refundHoldRequest.parse(raw);
      const h = holds.get(req.holdId);
      if (!h || h.status !== 'CAPTURED') throw new AppError(ErrorCode.CONFLICT, 'The hold was not captured');
      const key = `${req.holdId}:${req.refundId}`;
      if (!giveBacks.has(key)) {
        const before = [...giveBacks].filter(([k]) => k.startsWith(`${req.holdId}:`)).reduce((s, [, v]) => s + v, 0);
        if (before + req.amount > h.amount) throw new AppError(ErrorCode.BAD_USER_INPUT, 'more than was captured');
        giveBacks.set(key, req.amount);
        balances.set(h.memberId, (balances.get(h.memberId) ?? 0) + req.amount);
      }
      return { holdId: h.holdId, restored: giveBacks.get(key)!, expired: 0 };
    }, log),
  ];
  return {
    balances,
    holds,
    calls,
    behaviour,
    giveBacks,
    available,
    async close() {
      for (const s of subs) s.unsubscribe();
      await bus.close();
    },
  };
}

export interface FakeMember {
  /** The PAYMENT code each member may use once. */
  codes: Map<string, string>;
  requests: Array<{ memberId?: string; purpose: string; code: string }>;
  /** Birth months (1-12) the member service knows; absent: unknown (null). */
  birthMonths: Map<string, number>;
  /** Members asked for their birth month, in order. */
  birthMonthRequests: string[];
  /** How `rpc.member.birth_month` answers: as the contract says, NOT_FOUND, or not at all. */
  behaviour: { birthMonth: Behaviour };
  close(): Promise<void>;
}

export async function fakeMember(scope: TestScope): Promise<FakeMember> {
  const bus = await Bus.connect({ url: natsUrl(), prefix: scope.prefix, name: 'fake-member', log });
  const codes = new Map<string, string>();
  const requests: FakeMember['requests'] = [];
  const birthMonths = new Map<string, number>();
  const birthMonthRequests: string[] = [];
  const behaviour: FakeMember['behaviour'] = { birthMonth: 'normal' };
  const birth = serveRequests(bus, MemberRpc.BirthMonth, async (raw: unknown): Promise<BirthMonthReply> => {
    const { memberId } = birthMonthRequest.parse(raw);
    birthMonthRequests.push(memberId);
    if (behaviour.birthMonth === 'silent') return never();
    if (behaviour.birthMonth === 'refuse') throw new AppError(ErrorCode.NOT_FOUND, 'Member not found');
    return { month: birthMonths.get(memberId) ?? null };
  }, log);
  const sub = serveRequests(bus, MemberRpc.VerifyOtp, async (raw: { memberId?: string; purpose: string; code: string }): Promise<VerifyOtpReply> => {
    requests.push(raw);
    if (raw.purpose !== 'PAYMENT') return { ok: false, reason: 'PURPOSE_NOT_ALLOWED' };
    const code = raw.memberId ? codes.get(raw.memberId) : undefined;
    if (!code) return { ok: false, reason: 'NO_CODE' };
    if (code !== raw.code) return { ok: false, reason: 'MISMATCH' };
    codes.delete(raw.memberId!);
    return { ok: true, reason: null };
  }, log);
  return {
    codes,
    requests,
    birthMonths,
    birthMonthRequests,
    behaviour,
    async close() {
      sub.unsubscribe();
      birth.unsubscribe();
      await bus.close();
    },
  };
}

export interface FakeMarketing {
  /** Coupons by code: owner, discount, and the state the marketing service would keep. */
  coupons: Map<string, { memberId: string; discount: number; status: 'ISSUED' | 'LOCKED' | 'REDEEMED'; paymentId: string | null }>;
  calls: { lock: number; redeem: number; release: number; restore: number };
  behaviour: { lock: Behaviour; redeem: Behaviour; release: Behaviour; restore: Behaviour };
  close(): Promise<void>;
}

/** The marketing service's coupon locking as the contract describes it (idempotent per coupon and payment). */
export async function fakeMarketing(scope: TestScope): Promise<FakeMarketing> {
  const bus = await Bus.connect({ url: natsUrl(), prefix: scope.prefix, name: 'fake-marketing', log });
  const coupons: FakeMarketing['coupons'] = new Map();
  const calls = { lock: 0, redeem: 0, release: 0, restore: 0 };
  const behaviour: FakeMarketing['behaviour'] = { lock: 'normal', redeem: 'normal', release: 'normal', restore: 'normal' };
  const reply = (code: string): CouponLockReply => {
    const c = coupons.get(code)!;
    return { couponId: `c-${code}`, couponCode: code, status: c.status, discount: c.discount };
  };
  const mine = (code: string, paymentId: string) => {
    const c = coupons.get(code);
    if (!c) throw new AppError(ErrorCode.NOT_FOUND, 'No such coupon');
    if (c.paymentId !== null && c.paymentId !== paymentId) throw new AppError(ErrorCode.CONFLICT, 'The coupon belongs to another payment', { field: 'couponCode' });
    return c;
  };
  const serve = (name: string, kind: keyof FakeMarketing['calls'], act: (raw: unknown) => CouponLockReply) =>
    serveRequests(bus, name, async (raw: unknown) => {
      calls[kind]++;
      if (behaviour[kind] === 'silent') return never();
      if (behaviour[kind] === 'refuse') throw new AppError(ErrorCode.CONFLICT, 'refused by the test', { field: 'couponCode' });
      return act(raw);
    }, log);
  const subs = [
    serve(MarketingRpc.LockCoupon, 'lock', (raw) => {
      const req = lockCouponRequest.parse(raw);
      const c = coupons.get(req.couponCode);
      if (!c || c.memberId !== req.memberId) throw new AppError(ErrorCode.NOT_FOUND, 'No such coupon');
      if (c.paymentId === req.paymentId) return reply(req.couponCode);
      if (c.status !== 'ISSUED') throw new AppError(ErrorCode.CONFLICT, `The coupon is ${c.status}`, { field: 'couponCode' });
      Object.assign(c, { status: 'LOCKED', paymentId: req.paymentId });
      return reply(req.couponCode);
    }),
    serve(MarketingRpc.RedeemCoupon, 'redeem', (raw) => {
      const req = couponPaymentRequest.parse(raw);
      const c = mine(req.couponCode, req.paymentId);
      if (c.status === 'ISSUED') throw new AppError(ErrorCode.CONFLICT, 'Not locked', { field: 'couponCode' });
      c.status = 'REDEEMED';
      return reply(req.couponCode);
    }),
    serve(MarketingRpc.ReleaseCoupon, 'release', (raw) => {
      const req = couponPaymentRequest.parse(raw);
      const c = mine(req.couponCode, req.paymentId);
      if (c.status === 'REDEEMED') throw new AppError(ErrorCode.CONFLICT, 'Redeemed', { field: 'couponCode' });
      Object.assign(c, { status: 'ISSUED', paymentId: null });
      return { ...reply(req.couponCode), status: 'ISSUED' };
    }),
    serve(MarketingRpc.RestoreCoupon, 'restore', (raw) => {
      const req = couponPaymentRequest.parse(raw);
      const c = mine(req.couponCode, req.paymentId);
      if (c.status !== 'ISSUED') Object.assign(c, { status: 'ISSUED', paymentId: null });
      return reply(req.couponCode);
    }),
  ];
  return {
    coupons,
    calls,
    behaviour,
    async close() {
      for (const s of subs) s.unsubscribe();
      await bus.close();
    },
  };
}
