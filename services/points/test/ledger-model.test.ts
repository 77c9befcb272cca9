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

const svc = serviceUnderTest('points', createApp);
const DAY = 86_400_000;

/** The simple model: a balance and a list of lots, spent in (expiry, earn time, creation) order. */
interface ModelLot {
  seq: number;
  earnedAt: number;
  expiresAt: number;
  remaining: number;
}
interface Model {
  balance: number;
  lifetimeEarned: number;
  lots: ModelLot[];
}

type Op =
  | { kind: 'earn'; amount: number }
  | { kind: 'adjust'; delta: number }
  | { kind: 'advance'; days: number }
  | { kind: 'expire' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('earn' as const), amount: fc.integer({ min: 1, max: 500 }) }),
  fc.record({ kind: fc.constant('adjust' as const), delta: fc.integer({ min: -600, max: 300 }).filter((n) => n !== 0) }),
  fc.record({ kind: fc.constant('advance' as const), days: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ kind: fc.constant('expire' as const) }),
);

const fifo = (a: ModelLot, b: ModelLot) => a.expiresAt - b.expiresAt || a.earnedAt - b.earnedAt || a.seq - b.seq;

describe('ledger against a model', () => {
  it('keeps balance, lots and every audit invariant after each earn, adjust and expiry', async () => {
    const kit = svc.app.kit;
    const policy = expiryPolicyOf(kit.config);
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 20 }), async (ops) => {
        const memberId = newId();
        // Registered (as member.registered would record it), so adjustments know the member.
        await kit.uow((em) => projectTier(em, memberId, 'MEMBER', new Date()));
        const model: Model = { balance: 0, lifetimeEarned: 0, lots: [] };
        let clock = Date.UTC(2024, 0, 1);
        let seq = 0;
        for (const [i, step] of ops.entries()) {
          const at = new Date(clock);
          if (step.kind === 'earn' || (step.kind === 'adjust' && step.delta > 0)) {
            const amount = step.kind === 'earn' ? step.amount : step.delta;
            if (step.kind === 'earn') {
              await kit.uow((em) =>
                creditPoints(kit, em, { memberId, type: 'EARN', amount, reason: 'ORDER', reference: null, idempotencyKey: `model:${memberId}:${i}`, at }),
              );
              model.lifetimeEarned += amount;
            } else {
              await kit.uow((em) => adjustPoints(kit, em, 'model', { memberId, delta: amount, reason: 'model', idempotencyKey: `model-${memberId}-${i}` }, at));
            }
            model.lots.push({ seq: seq++, earnedAt: clock, expiresAt: expiryFor(at, policy).getTime(), remaining: amount });
            model.balance += amount;
          } else if (step.kind === 'adjust') {
            const take = -step.delta;
            const attempt = kit.uow((em) => adjustPoints(kit, em, 'model', { memberId, delta: step.delta, reason: 'model', idempotencyKey: `model-${memberId}-${i}` }, at));
            if (take > model.balance) {
              await expect(attempt).rejects.toSatisfy((e) => e instanceof AppError && e.extensions.code === 'INSUFFICIENT_FUNDS');
            } else {
              await attempt;
              let left = take;
              for (const lot of [...model.lots].sort(fifo)) {
                const t = Math.min(lot.remaining, left);
                lot.remaining -= t;
                left -= t;
              }
              model.balance -= take;
            }
          } else if (step.kind === 'advance') {
            clock += step.days * DAY;
          } else {
            await runPointsExpiry(kit, at, 'model');
            for (const lot of model.lots) {
              if (lot.expiresAt <= clock) {
                model.balance -= lot.remaining;
                lot.remaining = 0;
              }
            }
          }

          // The database agrees with the model...
          const [account] = await kit.ds.query('SELECT balance, lifetime_earned FROM points_account WHERE member_id = ?', [memberId]);
          expect({ balance: Number(account?.balance ?? 0), lifetimeEarned: Number(account?.lifetime_earned ?? 0) }).toEqual({
            balance: model.balance,
            lifetimeEarned: model.lifetimeEarned,
          });
          const lots: Array<{ remaining: string }> = await kit.ds.query(
            'SELECT remaining FROM points_lot WHERE member_id = ? ORDER BY expires_at, earned_at, id',
            [memberId],
          );
          expect(lots.map((l) => Number(l.remaining))).toEqual([...model.lots].sort(fifo).map((l) => l.remaining));
          expect(model.balance).toBeGreaterThanOrEqual(0);
          // ...and every invariant the audit checks holds for this member.
          const audit = await auditPoints(kit.ds.manager);
          expect(audit.differences.filter((d) => d.memberId === memberId)).toEqual([]);
        }
      }),
      { numRuns: 25 },
    );
  });
});
