/** A line of an order as the source sent it (amount in fen, after line discounts). */
export interface OrderLine {
  sku: string;
  category: string | null;
  quantity: number;
  amount: number;
}

/** What makes two recordings of the same (source, externalId) the same order. */
export interface OrderFacts {
  memberId: string;
  amount: number;
  storeId: string | null;
  channel: string;
  lines: OrderLine[] | null;
}

/** Lines compared field by field; absent and null categories are the same. */
function sameLines(a: OrderLine[] | null, b: OrderLine[] | null): boolean {
  if (!a || !b) return !a && !b;
  return (
    a.length === b.length &&
    a.every((l, i) => {
      const m = b[i]!;
      return l.sku === m.sku && (l.category ?? null) === (m.category ?? null) && l.quantity === m.quantity && l.amount === m.amount;
    })
  );
}

/** A retried recordOrder must repeat the original exactly (lines included); anything else is a conflicting reuse of the id. */
export function sameOrder(a: OrderFacts, b: OrderFacts): boolean {
  return (
    a.memberId === b.memberId &&
    a.amount === b.amount &&
    (a.storeId ?? null) === (b.storeId ?? null) &&
    a.channel === b.channel &&
    sameLines(a.lines ?? null, b.lines ?? null)
  );
}

export const MAX_ORDER_AMOUNT = 100_000_000_00; // 100 million yuan in fen: anything above is a typo
export const MAX_ORDER_LINES = 500;
export const MAX_LINE_QUANTITY = 1_000_000;

/**
 * The first problem with an order's lines, as `[field, message]`, or null. The line amounts need
 * not add up to the paid amount (order-level discounts, vouchers), but none may be negative.
 */
export function linesProblem(lines: OrderLine[]): [string, string] | null {
  if (lines.length > MAX_ORDER_LINES) return ['lines', `an order has at most ${MAX_ORDER_LINES} lines`];
  for (const [i, l] of lines.entries()) {
    if (l.sku.length < 1 || l.sku.length > 64) return [`lines.${i}.sku`, 'sku must be 1-64 characters'];
    if (l.category !== null && (l.category.length < 1 || l.category.length > 64)) return [`lines.${i}.category`, 'category must be 1-64 characters'];
    if (!Number.isSafeInteger(l.quantity) || l.quantity < 1 || l.quantity > MAX_LINE_QUANTITY) {
      return [`lines.${i}.quantity`, `quantity must be a whole number from 1 to ${MAX_LINE_QUANTITY}`];
    }
    if (!Number.isSafeInteger(l.amount) || l.amount < 0 || l.amount > MAX_ORDER_AMOUNT) {
      return [`lines.${i}.amount`, 'line amount must be a whole number of fen, 0 or more'];
    }
  }
  return null;
}

/** What is left to refund of an order. */
export const refundable = (order: { amount: number; refundedAmount: number }) => order.amount - order.refundedAmount;
