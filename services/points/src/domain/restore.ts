import { fifoOrder, type Lot } from './lots';

/** A lot a hold drew from, and how much. */
export interface HoldDraw extends Lot {
  /** Points the hold took from this lot. */
  drawn: number;
}

/** How one give-back of a captured hold splits: back into lots, or lost to lots that expired meanwhile. */
export interface GiveBackPlan {
  /** Points back into each (unexpired) lot. */
  restore: Array<{ lotId: string; amount: number }>;
  restored: number;
  /** Points whose lots expired at or before `now`: not revived. */
  expired: number;
}

/**
 * Gives back `amount` of a captured hold's points, after `alreadyGivenBack` were given back by
 * earlier refunds. The hold's draws are undone in reverse spending order (the lot expiring last
 * first), so successive partial give-backs cover consecutive, non-overlapping slices of the hold
 * and together never exceed it. A slice whose lot expired (`expiresAt <= now`) is reported as
 * expired instead of revived. `remaining` of the draws is ignored.
 */
export function planGiveBack(draws: readonly HoldDraw[], alreadyGivenBack: number, amount: number, now: Date): GiveBackPlan {
  const total = draws.reduce((s, d) => s + d.drawn, 0);
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError(`a give-back is a whole, positive number of points, got ${amount}`);
  if (!Number.isSafeInteger(alreadyGivenBack) || alreadyGivenBack < 0) throw new RangeError(`alreadyGivenBack must be >= 0, got ${alreadyGivenBack}`);
  if (alreadyGivenBack + amount > total) throw new RangeError(`the hold spent ${total}, ${alreadyGivenBack} already given back, ${amount} asked`);
  const ordered = [...draws].filter((d) => d.drawn > 0).sort((a, b) => fifoOrder(b, a));
  const plan: GiveBackPlan = { restore: [], restored: 0, expired: 0 };
  let skip = alreadyGivenBack;
  let left = amount;
  for (const d of ordered) {
    if (left === 0) break;
    const skipped = Math.min(skip, d.drawn);
    skip -= skipped;
    const take = Math.min(d.drawn - skipped, left);
    if (take <= 0) continue;
    left -= take;
    if (d.expiresAt.getTime() <= now.getTime()) {
      plan.expired += take;
    } else {
      plan.restore.push({ lotId: d.id, amount: take });
      plan.restored += take;
    }
  }
  return plan;
}
