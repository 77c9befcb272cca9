/** What makes two recordings of the same (source, externalId) the same order. */
export interface OrderFacts {
  memberId: string;
  amount: number;
  storeId: string | null;
  channel: string;
}

/** A retried recordOrder must repeat the original exactly; anything else is a conflicting reuse of the id. */
export function sameOrder(a: OrderFacts, b: OrderFacts): boolean {
  return a.memberId === b.memberId && a.amount === b.amount && (a.storeId ?? null) === (b.storeId ?? null) && a.channel === b.channel;
}

export const MAX_ORDER_AMOUNT = 100_000_000_00; // 100 million yuan in fen: anything above is a typo
