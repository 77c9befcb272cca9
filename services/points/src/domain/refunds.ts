import { fifoOrder, type Draw, type Lot } from './lots';

/** What to do when a refund takes back points that were already spent. */
export type RefundPolicy = 'DEBT' | 'CAP_AT_ZERO';

/**
 * Points a refund takes back: the order's earning times the share refunded so far, rounded down,
 * less what the order's earlier refunds already took. Computed on the cumulative total, so partial
 * refunds never drift by rounding (three refunds of a third take back exactly the earning) and a
 * late, smaller cumulative total (an earlier refund arriving last) takes nothing more.
 */
export function refundDue(input: { earned: number; refundedTotal: number; orderAmount: number; alreadyDue: number }): number {
  const { earned, refundedTotal, orderAmount, alreadyDue } = input;
  for (const [name, v] of Object.entries(input)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a whole, non-negative number, got ${v}`);
  }
  if (earned === 0 || orderAmount === 0) return 0;
  const share = BigInt(Math.min(refundedTotal, orderAmount));
  const target = Number((BigInt(earned) * share) / BigInt(orderAmount));
  return Math.max(0, target - alreadyDue);
}

/** How a reversal is taken: from lots, as new debt, or forgiven (CAP_AT_ZERO). */
export interface ReversalPlan {
  draws: Draw[];
  /** Taken from no lot: the available balance goes this far below zero (DEBT). */
  debt: number;
  /** Not taken at all (CAP_AT_ZERO): the member had spent them. */
  forgiven: number;
}

/**
 * Takes `due` points back: first from the lots the order created (soonest-expiring first), then
 * from the member's other lots FIFO; what no lot holds any more becomes debt, or is forgiven under
 * CAP_AT_ZERO.
 */
export function planReversal(due: number, orderLotIds: ReadonlySet<string>, lots: readonly Lot[], policy: RefundPolicy): ReversalPlan {
  if (!Number.isSafeInteger(due) || due < 0) throw new RangeError(`due must be a whole, non-negative number, got ${due}`);
  const ordered = [...lots].filter((l) => l.remaining > 0).sort((a, b) => Number(orderLotIds.has(b.id)) - Number(orderLotIds.has(a.id)) || fifoOrder(a, b));
  const draws: Draw[] = [];
  let left = due;
  for (const lot of ordered) {
    if (left === 0) break;
    const take = Math.min(lot.remaining, left);
    draws.push({ lotId: lot.id, amount: take });
    left -= take;
  }
  return policy === 'DEBT' ? { draws, debt: left, forgiven: 0 } : { draws, debt: 0, forgiven: left };
}

/** One debit entry still owed (it took points no lot held). */
export interface Debt {
  entryId: string;
  owed: number;
}

/** A repayment: points taken from a lot on behalf of a debit entry that went into debt. */
export interface Repayment {
  entryId: string;
  lotId: string;
  amount: number;
}

/**
 * Matches points taken from lots (FIFO picks, `draws`) against what is owed, oldest debt first:
 * each repayment is recorded as a draw of the debt's entry, so every debit ends up fully drawn.
 */
export function allocateRepayment(draws: readonly Draw[], debts: readonly Debt[]): Repayment[] {
  const out: Repayment[] = [];
  const owed = debts.map((d) => ({ ...d }));
  let i = 0;
  for (const draw of draws) {
    let left = draw.amount;
    while (left > 0 && i < owed.length) {
      const d = owed[i]!;
      const take = Math.min(left, d.owed);
      if (take > 0) out.push({ entryId: d.entryId, lotId: draw.lotId, amount: take });
      d.owed -= take;
      left -= take;
      if (d.owed === 0) i++;
    }
    if (left > 0) throw new RangeError(`repayment of ${draw.amount} from lot ${draw.lotId} exceeds the debt`);
  }
  return out;
}
