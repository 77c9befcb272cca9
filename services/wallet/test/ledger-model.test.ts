import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { newId } from '@membergraph/platform';
import { serviceUnderTest } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { DEFAULT_TOP_UP_RULES, topUpBonus } from '../src/domain/top-up';
import { topUp, refundTopUp } from '../src/services/top-up.service';
import { debitWallet } from '../src/services/debit.service';
import { auditLedger } from '../src/services/ledger-audit.service';
import { AUDIT, DEBIT, TOP_UP, financeToken, gqlAs, openMember, payClient, topUpInput, walletOf } from './helpers';

const svc = serviceUnderTest('wallet', createApp);

/** The simple model: two sub-balances and the top-ups still refundable. */
interface Model {
  principal: number;
  bonus: number;
  topUps: Array<{ id: string; principal: number; bonus: number; refunded: boolean }>;
}
interface Real {
  memberId: string;
}

const errorCode = (err: unknown) => (err as { extensions?: { code?: string } }).extensions?.code;

async function checkInvariants(m: Model, r: Real) {
  const [row] = await svc.app.kit.ds.query('SELECT principal, bonus FROM wallet_account WHERE member_id = ?', [r.memberId]);
  expect({ principal: Number(row.principal), bonus: Number(row.bonus) }).toEqual({ principal: m.principal, bonus: m.bonus });
  expect(m.principal).toBeGreaterThanOrEqual(0);
  expect(m.bonus).toBeGreaterThanOrEqual(0);
  const report = await auditLedger(svc.app.kit.ds);
  expect(report.differences).toEqual([]);
}

class TopUpCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly amount: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const row = await svc.app.kit.uow((em) => topUp(svc.app.kit, em, { memberId: r.memberId, amount: this.amount, paymentRef: newId(), channel: 'APP', idempotencyKey: newId() }));
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
    const attempt = svc.app.kit.uow((em) => refundTopUp(svc.app.kit, em, { topUpId: t.id, idempotencyKey: newId() }));
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
    const attempt = svc.app.kit.uow((em) => debitWallet(svc.app.kit, em, { memberId: r.memberId, amount: this.amount, reference: 'order', idempotencyKey: newId() }));
    if (this.amount > m.principal + m.bonus) {
      await attempt.then(() => expect.fail('overdrawn'), (err) => expect(errorCode(err)).toBe('INSUFFICIENT_FUNDS'));
    } else {
      const debit = await attempt;
      const fromPrincipal = Math.min(this.amount, m.principal);
      expect(debit).toMatchObject({ fromPrincipal, fromBonus: this.amount - fromPrincipal });
      m.principal -= fromPrincipal;
      m.bonus -= this.amount - fromPrincipal;
    }
    await checkInvariants(m, r);
  }
  toString = () => `debit(${this.amount})`;
}

// Amounts around the tier thresholds (100, 500, 1,000 yuan) and small change.
const amount = fc.oneof(fc.integer({ min: 1, max: 200_000 }), fc.constantFrom(9_999, 10_000, 49_999, 50_000, 99_999, 100_000));

describe('the ledger against a model', () => {
  it('keeps balances, journals, liability and the hash chain right after every top-up, refund and debit', async () => {
    const commands = [amount.map((a) => new TopUpCommand(a)), fc.nat().map((n) => new RefundCommand(n)), amount.map((a) => new DebitCommand(a))];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 12 }), async (cmds) => {
        const memberId = await openMember(svc.app);
        await fc.asyncModelRun(() => ({ model: { principal: 0, bonus: 0, topUps: [] }, real: { memberId } }), cmds);
      }),
      { numRuns: 25 },
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
