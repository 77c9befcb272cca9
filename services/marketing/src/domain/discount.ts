/**
 * How a coupon takes money off an order. Only fixed amounts exist today; percent-off (with a cap)
 * and threshold ("spend 300 save 50") coupons become new members of this union, each with its own
 * case in {@link couponDiscount}.
 */
export type DiscountRule = { type: 'FIXED_AMOUNT'; /** Fen off the order. */ amount: number };

/** The rule of a coupon as issued today: its amount, fixed. */
export const fixedAmount = (amount: number): DiscountRule => ({ type: 'FIXED_AMOUNT', amount });

/**
 * The discount in fen a coupon gives on an order of `orderAmount` fen: never negative and never more
 * than the order, so the amount left to pay is never below zero.
 */
export function couponDiscount(rule: DiscountRule, orderAmount: number): number {
  if (!Number.isSafeInteger(orderAmount) || orderAmount < 0) throw new RangeError(`orderAmount must be a whole number of fen >= 0, got ${orderAmount}`);
  switch (rule.type) {
    case 'FIXED_AMOUNT':
      if (!Number.isSafeInteger(rule.amount) || rule.amount < 0) throw new RangeError(`amount must be a whole number of fen >= 0, got ${rule.amount}`);
      return Math.min(rule.amount, orderAmount);
    default:
      return unknownRule(rule.type);
  }
}

function unknownRule(type: never): never {
  throw new Error(`unknown discount rule ${String(type)}`);
}
