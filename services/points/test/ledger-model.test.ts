import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AppError, newId } from '@membergraph/platform';
import { serviceUnderTest } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { expiryPolicyOf } from '../src/config';
import { expiryFor } from '../src/domain/expiry';
import { auditPoints } from '../src/services/points-audit.service';
import { adjustPoints } from '../src/services/points-adjustment.service';
import { runPointsExpiry } from '../src/services/points-expiry.service';
import { creditPoints } from '../src/services/points-ledger.service';
import { projectTier } from '../src/services/earn-rules.service';
import { RPC_CALLER, captureHold, holdPoints, releaseHold, runHoldExpiry } from '../src/services/points-hold.service';
import { recordRefund } from '../src/services/points-refund.service';
import { refundHold } from '../src/services/points-restore.service';
import { idempotencyKeys } from '../src/domain/ledger';
import { refundDue } from '../src/domain/refunds';
import { createReward, redeemReward } from '../src/services/points-reward.service';

// No sweeper and no daily jobs: the model's clock is not the wall clock, hold expiry and points expiry run only as steps.
const svc = serviceUnderTest('points', createApp, { env: { HOLD_SWEEP_INTERVAL_MS: '0', DAILY_JOBS_CHECK_INTERVAL_MS: '0' } });
const HOLD_TTL_MS = 900_000;
/** Points per unit of the model's reward (spend steps redeem it). */
const REWARD_COST = 7;
const DAY = 86_400_000;

/** The simple model: a balance and a list of lots, spent in (expiry, earn time, creation) order. */
interface ModelLot {
  seq: number;
  earnedAt: number;
  expiresAt: number;
  remaining: number;
}
interface ModelHold {
  id: string;
  amount: number;
  expiresAt: number;
  status: 'HELD' | 'CAPTURED' | 'RELEASED' | 'EXPIRED';
  draws: Array<{ lot: ModelLot; amount: number }>;
  /** Points given back after capture (refunded payments). */
  givenBack: number;
}
interface ModelOrder {
  orderId: string;
  lot: ModelLot;
  earned: number;
  orderAmount: number;
  refundedTotal: number;
  due: number;
}
interface Model {
  balance: number;
  held: number;
  lifetimeEarned: number;
  lots: ModelLot[];
  holds: ModelHold[];
  orders: ModelOrder[];
}

type Op =
  | { kind: 'earn'; amount: number }
  | { kind: 'adjust'; delta: number }
  | { kind: 'spend'; quantity: number }
  | { kind: 'advance'; days: number }
  | { kind: 'expire' }
  | { kind: 'hold'; amount: number }
  | { kind: 'capture'; pick: number }
  | { kind: 'release'; pick: number }
  | { kind: 'expireHolds'; minutes: number }
  | { kind: 'refund'; pick: number; percent: number }
  | { kind: 'restore'; pick: number; percent: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('earn' as const), amount: fc.integer({ min: 1, max: 500 }) }),
  fc.record({ kind: fc.constant('adjust' as const), delta: fc.integer({ min: -600, max: 300 }).filter((n) => n !== 0) }),
  // Up to 210 points: often more than is available, so refusals are exercised too.
  fc.record({ kind: fc.constant('spend' as const), quantity: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('advance' as const), days: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ kind: fc.constant('expire' as const) }),
  fc.record({ kind: fc.constant('hold' as const), amount: fc.integer({ min: 1, max: 200 }) }),
  // Twice as likely: they do something only once a hold exists.
  { arbitrary: fc.record({ kind: fc.constant('capture' as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }), weight: 2 },
  fc.record({ kind: fc.constant('expireHolds' as const), minutes: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant('refund' as const), pick: fc.nat(), percent: fc.integer({ min: 1, max: 100 }) }),
  { arbitrary: fc.record({ kind: fc.constant('restore' as const), pick: fc.nat(), percent: fc.integer({ min: 1, max: 100 }) }), weight: 2 },
);

/** Takes `amount` from the lots in `order`, returning the draws. */
function take(lots: ModelLot[], amount: number): Array<{ lot: ModelLot; amount: number }> {
  const draws = [];
  let left = amount;
  for (const lot of lots) {
    const t = Math.min(lot.remaining, left);
    if (t > 0) draws.push({ lot, amount: t });
    lot.remaining -= t;
    left -= t;
  }
  return draws;
}

const fifo = (a: ModelLot, b: ModelLot) => a.expiresAt - b.expiresAt || a.earnedAt - b.earnedAt || a.seq - b.seq;

describe('ledger against a model', () => {
  it('keeps balance, held, lots and every audit invariant after each earn, adjust, spend, expiry, hold, capture, release, hold expiry, refund and hold give-back', async () => {
    const kit = svc.app.kit;
    const policy = expiryPolicyOf(kit.config);
    // A VIRTUAL reward with stock for every spend step of every run, open to every tier and date.
    const reward = await kit.uow((em) => createReward(em, 'model', { name: 'Model reward', type: 'VIRTUAL', cost: REWARD_COST, stock: 10_000_000 }));
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25, size: 'max' }), async (ops) => {
        const memberId = newId();
        // Registered (as member.registered would record it), so adjustments know the member.
        await kit.uow((em) => projectTier(em, memberId, 'MEMBER', new Date()));
        const model: Model = { balance: 0, held: 0, lifetimeEarned: 0, lots: [], holds: [], orders: [] };
        const available = () => model.balance - model.held;
        /** New points pay the debt first (it is the only place lots can go while available < 0). */
        const repay = (availableBefore: number, amount: number) => {
          if (availableBefore < 0) take([...model.lots].sort(fifo), Math.min(amount, -availableBefore));
        };
        const code = (c: string) => (e: unknown) => e instanceof AppError && e.extensions.code === c;
        let clock = Date.UTC(2024, 0, 1);
        let seq = 0;
        const takeFifo = (amount: number) => take([...model.lots].sort(fifo), amount);
        const releaseModelHold = (h: ModelHold, status: 'RELEASED' | 'EXPIRED') => {
          const before = available();
          for (const d of h.draws) d.lot.remaining += d.amount;
          h.status = status;
          model.held -= h.amount;
          repay(before, h.amount);
        };
        for (const [i, step] of ops.entries()) {
          const at = new Date(clock);
          if (step.kind === 'earn' || (step.kind === 'adjust' && step.delta > 0)) {
            const amount = step.kind === 'earn' ? step.amount : step.delta;
            const before = available();
            const lot = { seq: seq++, earnedAt: clock, expiresAt: expiryFor(at, policy).getTime(), remaining: amount };
            if (step.kind === 'earn') {
              // Earned from an order (100 fen per point), so refund steps can take it back.
              const orderId = newId();
              await kit.uow((em) =>
                creditPoints(kit, em, { memberId, type: 'EARN', amount, reason: 'ORDER', reference: orderId, idempotencyKey: idempotencyKeys.order(orderId), at }),
              );
              model.lifetimeEarned += amount;
              model.orders.push({ orderId, lot, earned: amount, orderAmount: amount * 100, refundedTotal: 0, due: 0 });
            } else {
              await kit.uow((em) => adjustPoints(kit, em, 'model', { memberId, delta: amount, reason: 'model', idempotencyKey: `model-${memberId}-${i}` }, at));
            }
            model.lots.push(lot);
            model.balance += amount;
            repay(before, amount);
          } else if (step.kind === 'adjust') {
            const take = -step.delta;
            const attempt = kit.uow((em) => adjustPoints(kit, em, 'model', { memberId, delta: step.delta, reason: 'model', idempotencyKey: `model-${memberId}-${i}` }, at));
            if (take > available()) {
              await expect(attempt).rejects.toSatisfy(code('INSUFFICIENT_FUNDS'));
            } else {
              await attempt;
              takeFifo(take);
              model.balance -= take;
            }
          } else if (step.kind === 'spend') {
            // A redemption: a SPEND entry drawn FIFO, never more than is available.
            const points = step.quantity * REWARD_COST;
            const attempt = kit.uow((em) => redeemReward(kit, em, memberId, { rewardId: reward.id, quantity: step.quantity, idempotencyKey: `model-${i}` }, at));
            if (points > available()) {
              await expect(attempt).rejects.toSatisfy(code('INSUFFICIENT_FUNDS'));
            } else {
              expect(await attempt).toMatchObject({ points, status: 'GRANTED' });
              takeFifo(points);
              model.balance -= points;
            }
          } else if (step.kind === 'hold') {
            const attempt = kit.uow((em) => holdPoints(kit, em, RPC_CALLER, { memberId, amount: step.amount, reference: 'model', idempotencyKey: `model-${memberId}-${i}` }, at));
            if (step.amount > available()) {
              await expect(attempt).rejects.toSatisfy(code('INSUFFICIENT_FUNDS'));
            } else {
              const hold = await attempt;
              model.holds.push({ id: hold.id, amount: step.amount, expiresAt: clock + HOLD_TTL_MS, status: 'HELD', draws: takeFifo(step.amount), givenBack: 0 });
              model.held += step.amount;
            }
          } else if (step.kind === 'capture' || step.kind === 'release') {
            if (!model.holds.length) continue;
            const h = model.holds[step.pick % model.holds.length]!;
            const resolve = step.kind === 'capture' ? captureHold : releaseHold;
            const attempt = kit.uow((em) => resolve(kit, em, RPC_CALLER, h.id, at));
            const conflict =
              step.kind === 'capture' ? h.status === 'RELEASED' || h.status === 'EXPIRED' || (h.status === 'HELD' && h.expiresAt <= clock) : h.status === 'CAPTURED';
            if (conflict) {
              await expect(attempt).rejects.toSatisfy(code('CONFLICT'));
            } else {
              expect((await attempt).status).toBe(h.status === 'HELD' ? (step.kind === 'capture' ? 'CAPTURED' : 'RELEASED') : h.status);
              if (h.status === 'HELD' && step.kind === 'capture') {
                h.status = 'CAPTURED';
                model.balance -= h.amount;
                model.held -= h.amount;
              } else if (h.status === 'HELD') {
                releaseModelHold(h, 'RELEASED');
              }
            }
          } else if (step.kind === 'expireHolds') {
            clock += step.minutes * 60_000;
            await runHoldExpiry(kit, new Date(clock), 'model');
            for (const h of model.holds) if (h.status === 'HELD' && h.expiresAt <= clock) releaseModelHold(h, 'EXPIRED');
          } else if (step.kind === 'refund') {
            const open = model.orders.filter((o) => o.refundedTotal < o.orderAmount);
            if (!open.length) continue;
            const o = open[step.pick % open.length]!;
            const total = Math.min(o.orderAmount, o.refundedTotal + Math.ceil((o.orderAmount * step.percent) / 100));
            await kit.uow((em) =>
              recordRefund(
                kit,
                em,
                {
                  refundId: newId(),
                  orderId: o.orderId,
                  memberId,
                  source: 'pos',
                  externalOrderId: `X-${o.orderId}`,
                  amount: total - o.refundedTotal,
                  refundedTotal: total,
                  orderAmount: o.orderAmount,
                  refundedAt: at.toISOString(),
                },
                at,
              ),
            );
            const due = refundDue({ earned: o.earned, refundedTotal: total, orderAmount: o.orderAmount, alreadyDue: o.due });
            o.refundedTotal = total;
            o.due += due;
            // The order's own lot first, then FIFO; the rest is debt (policy DEBT).
            take([o.lot, ...[...model.lots].sort(fifo).filter((l) => l !== o.lot)], due);
            model.balance -= due;
          } else if (step.kind === 'restore') {
            const captured = model.holds.filter((h) => h.status === 'CAPTURED' && h.givenBack < h.amount);
            if (!captured.length) continue;
            const h = captured[step.pick % captured.length]!;
            const amount = Math.max(1, Math.floor(((h.amount - h.givenBack) * step.percent) / 100));
            const reply = await kit.uow((em) => refundHold(kit, em, { holdId: h.id, refundId: `r${i}`, amount }, at));
            // The hold's draws undone from the last one (the lot expiring last), skipping what was given back; expired lots get nothing.
            const before = available();
            let skip = h.givenBack;
            let left = amount;
            let restored = 0;
            for (const d of [...h.draws].sort((a, b) => fifo(b.lot, a.lot))) {
              const skipped = Math.min(skip, d.amount);
              skip -= skipped;
              const t = Math.min(d.amount - skipped, left);
              if (t <= 0) continue;
              left -= t;
              if (d.lot.expiresAt > clock) {
                d.lot.remaining += t;
                restored += t;
              }
            }
            h.givenBack += amount;
            model.balance += restored;
            expect(reply).toEqual({ holdId: h.id, restored, expired: amount - restored });
            repay(before, restored);
          } else if (step.kind === 'advance') {
            clock += step.days * DAY;
          } else if (step.kind === 'expire') {
            await runPointsExpiry(kit, at, 'model');
            for (const lot of model.lots) {
              if (lot.expiresAt <= clock) {
                model.balance -= lot.remaining;
                lot.remaining = 0;
              }
            }
          }

          // The database agrees with the model...
          const [account] = await kit.ds.query('SELECT balance, held, lifetime_earned FROM points_account WHERE member_id = ?', [memberId]);
          expect({ balance: Number(account?.balance ?? 0), held: Number(account?.held ?? 0), lifetimeEarned: Number(account?.lifetime_earned ?? 0) }).toEqual({
            balance: model.balance,
            held: model.held,
            lifetimeEarned: model.lifetimeEarned,
          });
          const lots: Array<{ remaining: string }> = await kit.ds.query(
            'SELECT remaining FROM points_lot WHERE member_id = ? ORDER BY expires_at, earned_at, id',
            [memberId],
          );
          expect(lots.map((l) => Number(l.remaining))).toEqual([...model.lots].sort(fifo).map((l) => l.remaining));
          expect(model.lots.reduce((sum, l) => sum + l.remaining, 0)).toBe(Math.max(0, available()));
          // ...and every invariant the audit checks holds for this member.
          const audit = await auditPoints(kit.ds.manager);
          expect(audit.differences.filter((d) => d.memberId === memberId)).toEqual([]);
        }
      }),
      { numRuns: 25 },
    );
  });
});
