import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { newId } from '@membergraph/platform';
import { serviceUnderTest } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { DEFAULT_TOP_UP_RULES, topUpBonus } from '../src/domain/top-up';
import { topUp, refundTopUp } from '../src/services/top-up.service';
import { debitWallet } from '../src/services/debit.service';
import { auditLedger } from '../src/services/ledger-audit.service';
import { SagaStep, checkoutDeps, pay, type CheckoutDeps, type SagaHooks } from '../src/services/checkout.service';
import { refundPayment, settleRefund } from '../src/services/payment-refund.service';
import { activateCards, bindCard, issueCardBatch, prepareCards } from '../src/services/card.service';
import { AUDIT, DEBIT, TOP_UP, financeToken, gqlAs, openMember, payClient, topUpInput, walletOf } from './helpers';
import { fakePoints, type FakePoints } from './checkout-doubles';

// Throughput of commands, not risk: no OTP, caps or velocity in the way of a model run.
const svc = serviceUnderTest('wallet', createApp, {
  env: { PAYMENT_OTP_THRESHOLD: '1000000000', RISK_SINGLE_PAYMENT_CAP: '1000000000', RISK_DAILY_CAP: '100000000000', RISK_VELOCITY_MAX_PAYMENTS: '0', RPC_TIMEOUT_MS: '2000' },
});

let points: FakePoints;
beforeAll(async () => {
  points = await fakePoints(svc.scope);
});
afterAll(async () => {
  await points?.close();
});

/** A captured payment as the model sees it: what it took from each sub-balance, and what went back. */
interface ModelPayment {
  id: string;
  principal: number;
  bonus: number;
  refundedPrincipal: number;
  refundedBonus: number;
  pointsUsed: number;
  pointsBack: number;
}

/** The simple model: two sub-balances, the member's points, the top-ups still refundable and the captured payments. */
interface Model {
  principal: number;
  bonus: number;
  points: number;
  topUps: Array<{ id: string; principal: number; bonus: number; refunded: boolean }>;
  payments: ModelPayment[];
}
interface Real {
  memberId: string;
  deps: CheckoutDeps;
  /** What the saga hook checks after each saga step of the payment in flight (none between commands). */
  saga: { check: (step: SagaStep) => Promise<void> } | null;
}

const errorCode = (err: unknown) => (err as { extensions?: { code?: string } }).extensions?.code;
const kit = () => svc.app.kit;

/** Principal first, as the wallet spends by default. */
const split = (m: { principal: number }, amount: number) => ({ principal: Math.min(amount, m.principal), bonus: amount - Math.min(amount, m.principal) });

async function systemBalance(code: string): Promise<number> {
  const [row] = await kit().ds.query('SELECT COALESCE(SUM(balance), 0) AS b FROM wallet_system_account WHERE code = ?', [code]);
  return Number(row.b);
}

/**
 * Every audit invariant (balanced journals, accounts = their entries, members = liability, none
 * below zero, hash chain intact) plus the model: the member's sub-balances, `held` fen waiting in
 * PAYMENT_HOLD (the audit seals first, so the system balances are current), the member's points
 * and no points left on hold between commands.
 */
async function checkInvariants(m: Pick<Model, 'principal' | 'bonus' | 'points'>, r: Real, held = 0, pointsHeld = 0) {
  const report = await auditLedger(kit().ds);
  expect(report.differences).toEqual([]);
  const [row] = await kit().ds.query('SELECT principal, bonus FROM wallet_account WHERE member_id = ?', [r.memberId]);
  expect({ principal: Number(row.principal), bonus: Number(row.bonus) }).toEqual({ principal: m.principal, bonus: m.bonus });
  expect(m.principal).toBeGreaterThanOrEqual(0);
  expect(m.bonus).toBeGreaterThanOrEqual(0);
  expect(await systemBalance('PAYMENT_HOLD')).toBe(held);
  expect(points.balances.get(r.memberId)).toBe(m.points);
  expect(points.available(r.memberId)).toBe(m.points - pointsHeld);
}

class TopUpCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly amount: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const row = await kit().uow((em) => topUp(kit(), em, { memberId: r.memberId, amount: this.amount, paymentRef: newId(), channel: 'APP', idempotencyKey: newId() }));
    const expected = topUpBonus(this.amount, DEFAULT_TOP_UP_RULES, { firstTopUp: m.topUps.length === 0 }, new Date()).bonus;
    expect(row.bonus).toBe(expected);
    m.principal += this.amount;
    m.bonus += expected;
    m.topUps.push({ id: row.id, principal: this.amount, bonus: expected, refunded: false });
    await checkInvariants(m, r);
  }
  toString = () => `topUp(${this.amount})`;
}

class RefundCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.topUps.length > 0;
  async run(m: Model, r: Real) {
    const t = m.topUps[this.pick % m.topUps.length]!;
    const attempt = kit().uow((em) => refundTopUp(kit(), em, { topUpId: t.id, idempotencyKey: newId() }));
    if (t.refunded) {
      await attempt.then(() => expect.fail('refunded twice'), (err) => expect(errorCode(err)).toBe('CONFLICT'));
    } else if (m.principal < t.principal) {
      await attempt.then(() => expect.fail('refund without the principal'), (err) => expect(errorCode(err)).toBe('INSUFFICIENT_FUNDS'));
    } else {
      const refund = await attempt;
      const takenBack = Math.min(t.bonus, m.bonus);
      const fromPrincipal = Math.min(t.bonus - takenBack, t.principal);
      expect(refund).toMatchObject({ bonusTakenBack: takenBack, bonusFromPrincipal: fromPrincipal, principalReturned: t.principal - fromPrincipal });
      m.principal -= t.principal;
      m.bonus -= takenBack;
      t.refunded = true;
    }
    await checkInvariants(m, r);
  }
  toString = () => `refund(#${this.pick})`;
}

class DebitCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly amount: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const attempt = kit().uow((em) => debitWallet(kit(), em, { memberId: r.memberId, amount: this.amount, reference: 'order', idempotencyKey: newId() }));
    if (this.amount > m.principal + m.bonus) {
      await attempt.then(() => expect.fail('overdrawn'), (err) => expect(errorCode(err)).toBe('INSUFFICIENT_FUNDS'));
    } else {
      const debit = await attempt;
      const s = split(m, this.amount);
      expect(debit).toMatchObject({ fromPrincipal: s.principal, fromBonus: s.bonus });
      m.principal -= s.principal;
      m.bonus -= s.bonus;
    }
    await checkInvariants(m, r);
  }
  toString = () => `debit(${this.amount})`;
}

/** A balance-only checkout: one transaction, captured at once, principal first. */
class PayBalanceCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly amount: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const attempt = pay(r.deps, { memberId: r.memberId, orderRef: `o-${newId()}`, amount: this.amount, idempotencyKey: newId() });
    if (this.amount > m.principal + m.bonus) {
      await attempt.then(() => expect.fail('overdrawn'), (err) => expect(errorCode(err)).toBe('INSUFFICIENT_FUNDS'));
    } else {
      const p = await attempt;
      const s = split(m, this.amount);
      expect(p).toMatchObject({ status: 'CAPTURED', walletAmount: this.amount, fromPrincipal: s.principal, fromBonus: s.bonus });
      m.principal -= s.principal;
      m.bonus -= s.bonus;
      m.payments.push({ id: p.id, principal: s.principal, bonus: s.bonus, refundedPrincipal: 0, refundedBonus: 0, pointsUsed: 0, pointsBack: 0 });
    }
    await checkInvariants(m, r);
  }
  toString = () => `payBalance(${this.amount})`;
}

/**
 * A checkout with points: points held, balance held, then captured, or (the points service
 * refusing the capture) everything released. After every saga step the audit is clean and the
 * held balance waits in PAYMENT_HOLD, exactly what left the member.
 */
class PaySagaCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly amount: number,
    readonly pointsPercent: number,
    readonly captureRefused: boolean,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const pointsUsed = Math.max(1, Math.floor((this.amount * this.pointsPercent) / 100));
    const walletAmount = this.amount - pointsUsed;
    const before = { principal: m.principal, bonus: m.bonus, points: m.points };
    const s = split(before, walletAmount);
    const heldView = { principal: before.principal - s.principal, bonus: before.bonus - s.bonus };
    const steps: SagaStep[] = [];
    r.saga = {
      check: async (step) => {
        steps.push(step);
        const expectations: Partial<Record<SagaStep, [Pick<Model, 'principal' | 'bonus' | 'points'>, number, number]>> = {
          [SagaStep.PAYMENT_CREATED]: [before, 0, 0],
          [SagaStep.POINTS_HELD]: [before, 0, pointsUsed],
          [SagaStep.WALLET_HELD]: [{ ...heldView, points: before.points }, walletAmount, pointsUsed],
          [SagaStep.CAPTURE_STARTED]: [{ ...heldView, points: before.points }, walletAmount, pointsUsed],
          [SagaStep.POINTS_CAPTURED]: [{ ...heldView, points: before.points - pointsUsed }, walletAmount, 0],
          [SagaStep.CAPTURED]: [{ ...heldView, points: before.points - pointsUsed }, 0, 0],
          [SagaStep.RELEASE_STARTED]: [{ ...heldView, points: before.points }, walletAmount, pointsUsed],
          [SagaStep.WALLET_RELEASED]: [before, 0, pointsUsed],
          [SagaStep.POINTS_RELEASED]: [before, 0, 0],
          [SagaStep.FAILED]: [before, 0, 0],
        };
        const [balances, held, pointsHeld] = expectations[step]!;
        await checkInvariants(balances, r, held, pointsHeld);
      },
    };
    points.behaviour.capture = this.captureRefused ? 'refuse' : 'normal';
    try {
      const attempt = pay(r.deps, { memberId: r.memberId, orderRef: `o-${newId()}`, amount: this.amount, pointsToUse: pointsUsed, idempotencyKey: newId() });
      if (walletAmount > m.principal + m.bonus) {
        // Judged before anything is held.
        await attempt.then(() => expect.fail('overdrawn'), (err) => expect(errorCode(err)).toBe('INSUFFICIENT_FUNDS'));
        expect(steps).toEqual([]);
      } else if (this.captureRefused) {
        const p = await attempt;
        expect(p).toMatchObject({ status: 'FAILED', failureReason: 'POINTS_CAPTURE_REFUSED', walletStep: 'RELEASED', pointsStep: 'RELEASED' });
        expect(steps).toEqual([SagaStep.PAYMENT_CREATED, SagaStep.POINTS_HELD, SagaStep.WALLET_HELD, SagaStep.CAPTURE_STARTED, SagaStep.RELEASE_STARTED, SagaStep.WALLET_RELEASED, SagaStep.POINTS_RELEASED, SagaStep.FAILED]);
      } else {
        const p = await attempt;
        expect(p).toMatchObject({ status: 'CAPTURED', walletAmount, pointsUsed, fromPrincipal: s.principal, fromBonus: s.bonus });
        expect(steps).toEqual([SagaStep.PAYMENT_CREATED, SagaStep.POINTS_HELD, SagaStep.WALLET_HELD, SagaStep.CAPTURE_STARTED, SagaStep.POINTS_CAPTURED, SagaStep.CAPTURED]);
        m.principal -= s.principal;
        m.bonus -= s.bonus;
        m.points -= pointsUsed;
        m.payments.push({ id: p.id, principal: s.principal, bonus: s.bonus, refundedPrincipal: 0, refundedBonus: 0, pointsUsed, pointsBack: 0 });
      }
    } finally {
      points.behaviour.capture = 'normal';
      r.saga = null;
    }
    await checkInvariants(m, r);
  }
  toString = () => `paySaga(${this.amount}, ${this.pointsPercent}% points${this.captureRefused ? ', capture refused' : ''})`;
}

/**
 * A refund of part (or, with `portion` 100, the rest) of a captured payment: back to principal and
 * bonus on the running total, bonus rounded down; its points on the same running total, all of
 * them on the full refund. More than is left is BAD_USER_INPUT.
 */
class RefundPaymentCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly portion: number,
    readonly tooMuch: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.payments.length > 0;
  async run(m: Model, r: Real) {
    const p = m.payments[this.pick % m.payments.length]!;
    const paid = p.principal + p.bonus;
    const done = p.refundedPrincipal + p.refundedBonus;
    const left = paid - done;
    const amount = this.tooMuch ? left + 1 : Math.max(1, Math.floor((left * this.portion) / 100));
    const attempt = kit().uow((em) => refundPayment(kit(), em, { paymentId: p.id, amount, idempotencyKey: newId() }));
    if (left === 0 || this.tooMuch) {
      await attempt.then(() => expect.fail('refunded more than was paid'), (err) => expect(errorCode(err)).toBe('BAD_USER_INPUT'));
    } else {
      const refund = await settleRefund(r.deps, (await attempt).id);
      const after = done + amount;
      const bonusBack = Math.floor((after * p.bonus) / paid) - p.refundedBonus;
      const pointsBack = after === paid ? p.pointsUsed - p.pointsBack : Math.max(0, Math.floor((p.pointsUsed * after) / paid) - p.pointsBack);
      expect(refund).toMatchObject({ amount, toPrincipal: amount - bonusBack, toBonus: bonusBack, points: pointsBack, pointsStep: pointsBack > 0 ? 'DONE' : 'NONE' });
      m.principal += amount - bonusBack;
      m.bonus += bonusBack;
      m.points += pointsBack;
      p.refundedPrincipal += amount - bonusBack;
      p.refundedBonus += bonusBack;
      p.pointsBack += pointsBack;
    }
    await checkInvariants(m, r);
  }
  toString = () => `refundPayment(#${this.pick}, ${this.tooMuch ? 'too much' : `${this.portion}%`})`;
}

/** A card issued, activated (or not) and bound: its face value loads as principal, once; an inactive card is CONFLICT and loads nothing. */
class CardLoadCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly faceValue: number,
    readonly activate: boolean,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const input = { count: 1, faceValue: this.faceValue, kind: 'PHYSICAL' as const, expiresAt: new Date(Date.now() + 86_400_000) };
    const prepared = await prepareCards(input);
    const batch = await kit().uow((em) => issueCardBatch(em, 'finance-1', input, prepared));
    if (this.activate) await kit().uow((em) => activateCards(em, 'finance-1', { batchId: batch.id, idempotencyKey: newId() }));
    const [card] = batch.cards;
    const attempt = bindCard(kit(), r.memberId, { cardNumber: card!.number, pin: card!.pin, idempotencyKey: newId() });
    if (!this.activate) {
      await attempt.then(() => expect.fail('an inactive card loaded'), (err) => expect(errorCode(err)).toBe('CONFLICT'));
    } else {
      expect(await attempt).toMatchObject({ status: 'BOUND', boundMemberId: r.memberId });
      m.principal += this.faceValue;
      // A repeat by the same member loads nothing more.
      expect(await bindCard(kit(), r.memberId, { cardNumber: card!.number, pin: card!.pin, idempotencyKey: newId() })).toMatchObject({ status: 'BOUND' });
    }
    await checkInvariants(m, r);
  }
  toString = () => `cardLoad(${this.faceValue}${this.activate ? '' : ', inactive'})`;
}

// Amounts around the tier thresholds (100, 500, 1,000 yuan) and small change.
const amount = fc.oneof(fc.integer({ min: 1, max: 200_000 }), fc.constantFrom(9_999, 10_000, 49_999, 50_000, 99_999, 100_000));
const payAmount = fc.oneof(fc.integer({ min: 2, max: 120_000 }), fc.constantFrom(2, 100, 10_000));
const POINTS = 1_000_000;

describe('the ledger against a model', () => {
  it('keeps balances, journals, liability, holds, points and the hash chain right after every top-up, refund, debit, payment (balance only or saga, captured or released), payment refund and card load', async () => {
    // Top-ups twice over: a member needs money before most of the rest can do more than refuse.
    const commands = [
      amount.map((a) => new TopUpCommand(a)),
      amount.map((a) => new TopUpCommand(a)),
      fc.nat().map((n) => new RefundCommand(n)),
      amount.map((a) => new DebitCommand(a)),
      payAmount.map((a) => new PayBalanceCommand(a)),
      fc.tuple(payAmount, fc.integer({ min: 0, max: 50 }), fc.boolean()).map(([a, pct, refused]) => new PaySagaCommand(a, pct, refused)),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 100 }), fc.boolean()).map(([n, portion, tooMuch]) => new RefundPaymentCommand(n, portion, tooMuch && portion % 5 === 0)),
      fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.boolean()).map(([face, activate]) => new CardLoadCommand(face, activate)),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 16, size: 'max' }), async (cmds) => {
        const memberId = await openMember(svc.app);
        points.balances.set(memberId, POINTS);
        const real: Real = { memberId, deps: null as unknown as CheckoutDeps, saga: null };
        // The saga's hook runs the model's checks after each step has committed.
        const hooks: SagaHooks = { afterStep: (step) => real.saga?.check(step) };
        real.deps = checkoutDeps(kit(), hooks);
        await fc.asyncModelRun(() => ({ model: { principal: 0, bonus: 0, points: POINTS, topUps: [], payments: [] }, real }), cmds);
      }),
      { numRuns: 40 },
    );
  });
});

describe('concurrency', () => {
  it('ends 64 concurrent debits on one account with the exact balance, never below zero', async () => {
    const memberId = await openMember(svc.app);
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, 100_000) }, payClient()); // 1,000 + 150 bonus = 115,000 fen
    // 64 debits of 2,000 fen ask for 128,000: exactly 57 fit (114,000), 7 must be refused.
    const token = await payClient();
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => gqlAs(svc.url, DEBIT, { input: { memberId, amount: 2_000, reference: `o${i}`, idempotencyKey: newId() } }, token)),
    );
    const ok = results.filter((r) => !r.errors);
    const refused = results.filter((r) => r.errors);
    expect(ok.length).toBe(57);
    expect(refused.every((r) => r.errors?.[0]?.extensions?.code === 'INSUFFICIENT_FUNDS')).toBe(true);
    expect(await walletOf(svc.url, memberId)).toMatchObject({ balance: 1_000, principal: 0, bonus: 1_000 });
    const fromPrincipal = ok.reduce((s, r) => s + r.data.debitWallet.fromPrincipal, 0);
    expect(fromPrincipal).toBe(100_000);
    const audit = await gqlAs(svc.url, AUDIT, {}, financeToken());
    expect(audit.data.walletAudit).toMatchObject({ ok: true, differences: [] });
  });

  it('keeps concurrent top-ups, refunds and debits over several members consistent', async () => {
    const members = await Promise.all(Array.from({ length: 4 }, () => openMember(svc.app)));
    const token = await payClient();
    const topUps = await Promise.all(members.flatMap((m) => [50_000, 10_000].map((a) => gqlAs(svc.url, TOP_UP, { input: topUpInput(m, a) }, token))));
    expect(topUps.every((r) => !r.errors)).toBe(true);
    const REFUND = `mutation($input: RefundTopUpInput!) { refundTopUp(input: $input) { id } }`;
    await Promise.all([
      ...members.flatMap((m) => Array.from({ length: 8 }, (_, i) => gqlAs(svc.url, DEBIT, { input: { memberId: m, amount: 7_000, reference: `x${i}`, idempotencyKey: newId() } }, token))),
      ...topUps.map((t) => gqlAs(svc.url, REFUND, { input: { topUpId: t.data.topUp.id, idempotencyKey: newId() } }, token)),
    ]);
    for (const m of members) {
      const w = await walletOf(svc.url, m);
      expect(w.principal).toBeGreaterThanOrEqual(0);
      expect(w.bonus).toBeGreaterThanOrEqual(0);
    }
    const audit = await gqlAs(svc.url, AUDIT, {}, financeToken());
    expect(audit.data.walletAudit).toMatchObject({ ok: true, differences: [] });
  });
});
