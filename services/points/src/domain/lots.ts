/** A lot of points as FIFO spending sees it. */
export interface Lot {
  id: string;
  /** Points still spendable from this lot. */
  remaining: number;
  expiresAt: Date;
  earnedAt: Date;
}

/** Points taken from one lot by one debit. */
export interface Draw {
  lotId: string;
  amount: number;
}

/** The lots hold fewer points than asked for. */
export class NotEnoughInLotsError extends RangeError {
  constructor(readonly asked: number, readonly available: number) {
    super(`lots hold ${available} points, ${asked} asked`);
    this.name = 'NotEnoughInLotsError';
  }
}

/** Spending order: the lot that expires soonest first, then the one earned first, then by id (a total order). */
export function fifoOrder(a: Lot, b: Lot): number {
  return a.expiresAt.getTime() - b.expiresAt.getTime() || a.earnedAt.getTime() - b.earnedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Which lots a debit of `amount` points draws from: lots expiring soonest first (ties by earn
 * time), each emptied before the next is touched. Every draw is positive and at most the lot's
 * remaining points; the draws sum to `amount`. Fewer points in the lots than asked is an error.
 */
export function pickLots(lots: readonly Lot[], amount: number): Draw[] {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError(`a debit takes a whole, positive number of points, got ${amount}`);
  const draws: Draw[] = [];
  let left = amount;
  for (const lot of [...lots].filter((l) => l.remaining > 0).sort(fifoOrder)) {
    if (left === 0) break;
    const take = Math.min(lot.remaining, left);
    draws.push({ lotId: lot.id, amount: take });
    left -= take;
  }
  if (left > 0) throw new NotEnoughInLotsError(amount, amount - left);
  return draws;
}
