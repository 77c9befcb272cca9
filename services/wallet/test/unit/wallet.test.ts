import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WalletStatus, totalBalance, walletView } from '../../src/domain/wallet';

describe('walletView', () => {
  it('shows an account that is not open yet as empty and ACTIVE', () => {
    expect(walletView(null)).toEqual({ balance: 0, principal: 0, bonus: 0, status: 'ACTIVE' });
  });

  it('shows principal and bonus apart and their sum as the balance', () => {
    expect(walletView({ principal: 50_000, bonus: 6_000, status: WalletStatus.FROZEN })).toEqual({
      balance: 56_000,
      principal: 50_000,
      bonus: 6_000,
      status: 'FROZEN',
    });
  });
});

describe('totalBalance', () => {
  it('is exactly principal plus bonus', () => {
    const fen = fc.integer({ min: 0, max: 2 ** 50 });
    fc.assert(
      fc.property(fen, fen, (principal, bonus) => {
        expect(totalBalance({ principal, bonus })).toBe(principal + bonus);
      }),
    );
  });

  it('refuses fractions and totals beyond exact integers', () => {
    expect(() => totalBalance({ principal: 1.5, bonus: 0 })).toThrow(RangeError);
    expect(() => totalBalance({ principal: Number.MAX_SAFE_INTEGER, bonus: 1 })).toThrow(RangeError);
  });
});
