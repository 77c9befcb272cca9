import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EMPTY_ACCOUNT, EntryType, applyEntry, availableOf, idempotencyKeys, type AccountTotals } from '../../src/domain/ledger';

const entry = fc.record({
  type: fc.constantFrom(...Object.values(EntryType)),
  amount: fc.integer({ min: -1_000_000, max: 1_000_000 }).filter((n) => n !== 0),
}).map((e) => (e.type === EntryType.EARN ? { ...e, amount: Math.abs(e.amount) } : e));

describe('applyEntry', () => {
  it('keeps the balance equal to the sum of entries and lifetime earnings equal to the sum of EARN', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 50 }), (entries) => {
        const totals = entries.reduce<AccountTotals>((acc, e) => applyEntry(acc, e.type, e.amount), EMPTY_ACCOUNT);
        expect(totals.balance).toBe(entries.reduce((s, e) => s + e.amount, 0));
        expect(totals.lifetimeEarned).toBe(entries.filter((e) => e.type === EntryType.EARN).reduce((s, e) => s + e.amount, 0));
      }),
    );
  });

  it('refuses zero, fractional and negative EARN entries', () => {
    expect(() => applyEntry(EMPTY_ACCOUNT, EntryType.EARN, 0)).toThrow(RangeError);
    expect(() => applyEntry(EMPTY_ACCOUNT, EntryType.ADJUST, 0.5)).toThrow(RangeError);
    expect(() => applyEntry(EMPTY_ACCOUNT, EntryType.EARN, -5)).toThrow(RangeError);
  });

  it('lets a non-EARN entry take the balance below zero (debt) without touching lifetime earnings', () => {
    expect(applyEntry({ balance: 10, lifetimeEarned: 10, held: 0 }, EntryType.REVERSE, -30)).toEqual({ balance: -20, lifetimeEarned: 10, held: 0 });
  });

  it('moves the points on hold without the balance for HOLD and RELEASE, and both for CAPTURE', () => {
    const held = applyEntry({ balance: 100, lifetimeEarned: 100, held: 0 }, EntryType.HOLD, 0, 30);
    expect(held).toEqual({ balance: 100, lifetimeEarned: 100, held: 30 });
    expect(availableOf(held)).toBe(70);
    expect(applyEntry(held, EntryType.CAPTURE, -30, -30)).toEqual({ balance: 70, lifetimeEarned: 100, held: 0 });
    expect(applyEntry(held, EntryType.RELEASE, 0, -30)).toEqual({ balance: 100, lifetimeEarned: 100, held: 0 });
    expect(() => applyEntry(held, EntryType.RELEASE, 0, -31)).toThrow(RangeError);
    expect(() => applyEntry(held, EntryType.HOLD, 0, 0)).toThrow(RangeError);
  });
});

describe('idempotency keys', () => {
  it('name one welcome per member and one earning per order', () => {
    expect(idempotencyKeys.welcome('M1')).toBe('welcome:M1');
    expect(idempotencyKeys.order('O1')).toBe('order:O1');
  });
});
