/**
 * Test doubles of the OTHER services' request/reply answers (points holds, member OTP), served with
 * the kit's serveRequests on the test's NATS prefix: our own infrastructure stays real.
 */
import { AppError, Bus, ErrorCode, createLogger, newId, serveRequests } from '@membergraph/platform';
import { MemberRpc, PointsRpc, holdPointsRequest, resolveHoldRequest, type PointsHoldReply, type VerifyOtpReply } from '@membergraph/contracts';
import { natsUrl, type TestScope } from '@membergraph/testkit';

const log = createLogger('test-doubles', 'silent');

/** How the fake points service answers a call: normally, with an error, or not at all (a timeout). */
export type Behaviour = 'normal' | 'refuse' | 'silent';

export interface FakePoints {
  balances: Map<string, number>;
  holds: Map<string, PointsHoldReply & { key: string }>;
  calls: { hold: number; capture: number; release: number };
  behaviour: { hold: Behaviour; capture: Behaviour; release: Behaviour };
  /** Points a member has, minus what is held. */
  available(memberId: string): number;
  close(): Promise<void>;
}

const never = () => new Promise<never>(() => undefined);

export async function fakePoints(scope: TestScope): Promise<FakePoints> {
  const bus = await Bus.connect({ url: natsUrl(), prefix: scope.prefix, name: 'fake-points', log });
  const balances = new Map<string, number>();
  const holds = new Map<string, PointsHoldReply & { key: string }>();
  const calls = { hold: 0, capture: 0, release: 0 };
  const behaviour: FakePoints['behaviour'] = { hold: 'normal', capture: 'normal', release: 'normal' };
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
  ];
  return {
    balances,
    holds,
    calls,
    behaviour,
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
  close(): Promise<void>;
}

export async function fakeMember(scope: TestScope): Promise<FakeMember> {
  const bus = await Bus.connect({ url: natsUrl(), prefix: scope.prefix, name: 'fake-member', log });
  const codes = new Map<string, string>();
  const requests: FakeMember['requests'] = [];
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
    async close() {
      sub.unsubscribe();
      await bus.close();
    },
  };
}
