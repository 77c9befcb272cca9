/** The rules that turn a paid order into points; tier multipliers, promotions and caps join later. */
export interface OrderEarnRules {
  /** Points per whole yuan paid. */
  pointsPerYuan: number;
}

const FEN_PER_YUAN = 100;

/**
 * Points an order earns: one per whole yuan paid (the fen are rounded down to yuan first), times
 * the rate. 12850 fen = 128.50 yuan -> 128 points at the default rate.
 */
export function pointsForOrder(paidFen: number, rules: OrderEarnRules): number {
  if (!Number.isSafeInteger(paidFen) || paidFen < 0) throw new RangeError(`paid amount must be a whole, non-negative number of fen, got ${paidFen}`);
  if (!Number.isSafeInteger(rules.pointsPerYuan) || rules.pointsPerYuan < 0) {
    throw new RangeError(`pointsPerYuan must be a whole, non-negative number, got ${rules.pointsPerYuan}`);
  }
  // Integer arithmetic: Math.floor(paidFen / 100) can round up near 2^53, where k - 0.01 is not representable.
  const yuan = (paidFen - (paidFen % FEN_PER_YUAN)) / FEN_PER_YUAN;
  const points = yuan * rules.pointsPerYuan;
  if (!Number.isSafeInteger(points)) throw new RangeError(`points for ${paidFen} fen overflow`);
  return points;
}
