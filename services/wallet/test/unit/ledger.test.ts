import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MemberAccount,
  SpendOrder,
  SystemAccount,
  debitPostings,
  journalDefect,
  memberDelta,
  planDebit,
  planRefund,
  refundPostings,
  reversalPostings,
  systemDeltas,
  topUpPostings,
} from '../../src/domain/ledger';
import { GENESIS_HASH, journalHash, type JournalContent } from '../../src/domain/chain';

const M = 'm1';
const fen = (max = 10_000_000) => fc.integer({ min: 0, max });
const positive = (max = 10_000_000) => fc.integer({ min: 1, max });

describe('top-up journals', () => {
  it('credit principal and bonus to the member, owed through the liability, paid by cash and bonus expense', () => {
    expect(topUpPostings(M, 100_000, 15_000)).toEqual([
      { account: SystemAccount.CASH_CLEARING, memberId: null, amount: -100_000 },
      { account: SystemAccount.BONUS_EXPENSE, memberId: null, amount: -15_000 },
      { account: SystemAccount.SV_LIABILITY, memberId: null, amount: 115_000 },
      { account: MemberAccount.PRINCIPAL, memberId: M, amount: 100_000 },
      { account: MemberAccount.BONUS, memberId: M, amount: 15_000 },
    ]);
  });

  it('are always balanced and never record a zero entry', () => {
    fc.assert(
      fc.property(positive(), fen(), (principal, bonus) => {
        const postings = topUpPostings(M, principal, bonus);
        expect(journalDefect(postings)).toBeNull();
        expect(postings.every((p) => p.amount !== 0)).toBe(true);
        expect(memberDelta(postings, M)).toEqual({ principal, bonus });
      }),
    );
  });

  it('refuse a zero or fractional principal', () => {
    expect(() => topUpPostings(M, 0, 0)).toThrow(RangeError);
    expect(() => topUpPostings(M, 1.5, 0)).toThrow(RangeError);
  });
});

describe('planRefund', () => {
  it('returns the principal and takes back the whole bonus while it is unspent', () => {
    expect(planRefund({ principal: 100_000, bonus: 15_000 }, { principal: 100_000, bonus: 15_000 })).toEqual({
      principalReturned: 100_000,
      bonusTakenBack: 15_000,
      bonusFromPrincipal: 0,
      bonusWrittenOff: 0,
    });
  });

  it('keeps spent bonus out of the principal returned', () => {
    expect(planRefund({ principal: 100_000, bonus: 15_000 }, { principal: 100_000, bonus: 5_000 })).toEqual({
      principalReturned: 90_000,
      bonusTakenBack: 5_000,
      bonusFromPrincipal: 10_000,
      bonusWrittenOff: 0,
    });
  });

  it('never returns less than nothing: spent bonus beyond the principal is written off', () => {
    expect(planRefund({ principal: 1_000, bonus: 3_000 }, { principal: 1_000, bonus: 0 })).toEqual({
      principalReturned: 0,
      bonusTakenBack: 0,
      bonusFromPrincipal: 1_000,
      bonusWrittenOff: 2_000,
    });
  });

  it('is impossible once the principal of the top-up has been spent', () => {
    expect(planRefund({ principal: 100_000, bonus: 15_000 }, { principal: 99_999, bonus: 15_000 })).toBeNull();
  });

  it('always balances, accounts for every fen of the bonus and never takes a sub-balance below zero', () => {
    fc.assert(
      fc.property(positive(), fen(), fen(), fen(), (principal, bonus, walletP, walletB) => {
        const balances = { principal: principal + walletP, bonus: walletB };
        const plan = planRefund({ principal, bonus }, balances)!;
        expect(plan.bonusTakenBack + plan.bonusFromPrincipal + plan.bonusWrittenOff).toBe(bonus);
        expect(plan.principalReturned + plan.bonusFromPrincipal).toBe(principal);
        expect(Math.min(plan.principalReturned, plan.bonusTakenBack, plan.bonusFromPrincipal, plan.bonusWrittenOff)).toBeGreaterThanOrEqual(0);
        const postings = refundPostings(M, principal, plan);
        expect(journalDefect(postings)).toBeNull();
        const d = memberDelta(postings, M);
        expect(balances.principal + d.principal).toBeGreaterThanOrEqual(0);
        expect(balances.bonus + d.bonus).toBeGreaterThanOrEqual(0);
        expect(systemDeltas(postings).get(SystemAccount.CASH_CLEARING) ?? 0).toBe(plan.principalReturned);
      }),
    );
  });
});

describe('planDebit', () => {
  it('spends principal first by default, then bonus', () => {
    expect(planDebit(12_000, { principal: 10_000, bonus: 5_000 })).toEqual({ principal: 10_000, bonus: 2_000 });
    expect(planDebit(12_000, { principal: 10_000, bonus: 5_000 }, SpendOrder.BONUS_FIRST)).toEqual({ principal: 7_000, bonus: 5_000 });
  });

  it('refuses what the balance does not cover', () => {
    expect(planDebit(15_001, { principal: 10_000, bonus: 5_000 })).toBeNull();
    expect(planDebit(15_000, { principal: 10_000, bonus: 5_000 })).toEqual({ principal: 10_000, bonus: 5_000 });
  });

  it('splits exactly, never overdraws a sub-balance and always balances', () => {
    fc.assert(
      fc.property(positive(), fen(), fen(), fc.constantFrom(SpendOrder.PRINCIPAL_FIRST, SpendOrder.BONUS_FIRST), (amount, p, b, order) => {
        const split = planDebit(amount, { principal: p, bonus: b }, order);
        if (amount > p + b) {
          expect(split).toBeNull();
          return;
        }
        expect(split!.principal + split!.bonus).toBe(amount);
        expect(split!.principal).toBeLessThanOrEqual(p);
        expect(split!.bonus).toBeLessThanOrEqual(b);
        expect(Math.min(split!.principal, split!.bonus)).toBeGreaterThanOrEqual(0);
        expect(journalDefect(debitPostings(M, split!))).toBeNull();
      }),
    );
  });
});

describe('journalDefect', () => {
  it('finds system entries that do not sum to zero', () => {
    const bad = topUpPostings(M, 100, 10).map((p) => (p.account === SystemAccount.CASH_CLEARING ? { ...p, amount: -99 } : p));
    expect(journalDefect(bad)).toMatch(/sum to 1/);
  });

  it('finds member entries that differ from the liability they belong to', () => {
    const bad = topUpPostings(M, 100, 10).map((p) => (p.account === MemberAccount.BONUS ? { ...p, amount: 11 } : p));
    expect(journalDefect(bad)).toMatch(/liability/);
  });

  it('finds member entries without a member, empty journals and fractions', () => {
    expect(journalDefect([{ account: MemberAccount.PRINCIPAL, memberId: null, amount: 1 }])).toMatch(/member id/);
    expect(journalDefect([])).toMatch(/at least one/);
    expect(journalDefect([{ account: SystemAccount.CASH_CLEARING, memberId: null, amount: 0.5 }])).toMatch(/whole/);
  });

  it('accepts a reversal of any balanced journal, which undoes it exactly', () => {
    fc.assert(
      fc.property(positive(), fen(), (principal, bonus) => {
        const original = topUpPostings(M, principal, bonus);
        const reversal = reversalPostings(original);
        expect(journalDefect(reversal)).toBeNull();
        const net = memberDelta([...original, ...reversal], M);
        expect(net).toEqual({ principal: 0, bonus: 0 });
      }),
    );
  });
});

describe('journal hash chain', () => {
  const journal: JournalContent = {
    seq: 1,
    id: '01J0000000000000000000000A',
    kind: 'TOP_UP',
    memberId: M,
    reference: '01J0000000000000000000000B',
    createdAt: new Date('2026-01-02T03:04:05.678Z'),
    postings: topUpPostings(M, 100_000, 15_000),
  };

  it('is deterministic and a 64-digit hex SHA-256', () => {
    expect(journalHash(GENESIS_HASH, journal)).toBe(journalHash(GENESIS_HASH, { ...journal, postings: [...journal.postings] }));
    expect(journalHash(GENESIS_HASH, journal)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with any field, any entry or the previous hash', () => {
    const base = journalHash(GENESIS_HASH, journal);
    const variants: JournalContent[] = [
      { ...journal, seq: 2 },
      { ...journal, kind: 'DEBIT' },
      { ...journal, memberId: 'm2' },
      { ...journal, reference: null },
      { ...journal, createdAt: new Date(journal.createdAt.getTime() + 1) },
      { ...journal, postings: journal.postings.map((p, i) => (i === 3 ? { ...p, amount: p.amount + 1 } : p)) },
      { ...journal, postings: journal.postings.slice(0, -1) },
      { ...journal, postings: [...journal.postings].reverse() },
    ];
    for (const v of variants) expect(journalHash(GENESIS_HASH, v)).not.toBe(base);
    expect(journalHash('f'.repeat(64), journal)).not.toBe(base);
  });
});
