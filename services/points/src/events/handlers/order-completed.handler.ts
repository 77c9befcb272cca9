import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler, ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../../config';
import { computeEarn, earnTotal, promotionExpiryDays } from '../../domain/earn';
import { EarnReason, idempotencyKeys } from '../../domain/ledger';
import { earnRulesAt } from '../../services/earn-rules.service';
import { awardCapped, readAwardFacts } from '../../services/points-award.service';
import { lockExistingAccount } from '../../services/points-ledger.service';
import { releaseAtFor } from '../../services/points-pending.service';
import { CappedRule } from '../../domain/behaviour';
import { applyParkedRefunds } from '../../services/points-refund.service';
import { mayEarn } from '../../domain/member-status';

/**
 * `order.completed` -> points by the earn rules in force (the store's rate, the lines' category
 * rates), the member's projected tier and the promotions of the day the order completed (tenant
 * time zone), once per order, under the daily caps; PENDING until the return window closes when
 * RETURN_WINDOW_DAYS > 0. A promotion's `expiryDays` shortens the order's lot.
 *
 * The hot path of the service, kept to few round trips: the account lock, one read of every fact
 * (rules version, tier, status, award key, caps, velocity windows, parked refunds), then the writes.
 */
export function orderCompletedHandler(kit: ServiceKit<PointsConfig>): EventHandler {
  return async ({ em, log }, event) => {
    const order = eventData(EventType.OrderCompleted, event);
    const completedAt = new Date(order.completedAt);
    const key = idempotencyKeys.order(order.orderId);
    // The lock first, so the facts below are read after it was granted. A member without an account
    // yet gets none here (a blocked member or an order under one yuan must not create one):
    // awardCapped creates and locks it, and reads the facts again under that lock.
    const account = await lockExistingAccount(em, order.memberId);
    const facts = await readAwardFacts(kit, em, { memberId: order.memberId, rule: CappedRule.ORDER, key, earnedAt: completedAt, orderId: order.orderId, profile: true });
    const rules = await earnRulesAt(kit, em, facts.rulesVersion);
    const lines = computeEarn({ amount: order.amount, storeId: order.storeId, lines: order.lines }, rules, facts.tier, completedAt, rules.timeZone);
    const amount = earnTotal(lines);
    if (!mayEarn(facts.status)) {
      log.info({ orderId: order.orderId, memberId: order.memberId, status: facts.status, amount }, 'member may not earn: no points for the order');
      return;
    }
    // Under one yuan earns nothing, and the ledger never holds a zero entry.
    if (amount === 0) return;
    const window = kit.config.RETURN_WINDOW_DAYS;
    // Daily caps count in the business day the order completed; inside a return window the points wait.
    const { award, replayed, parkedRefunds } = await awardCapped(kit, em, {
      memberId: order.memberId,
      rule: CappedRule.ORDER,
      requested: amount,
      reason: EarnReason.ORDER,
      reference: order.orderId,
      key,
      earnedAt: completedAt,
      pendingUntil: window > 0 ? { orderId: order.orderId, releaseAt: releaseAtFor(completedAt, window) } : null,
      // A promotion of the order's day may keep its points for fewer days than the policy.
      lotExpiryDays: promotionExpiryDays(rules, completedAt, rules.timeZone),
      orderId: order.orderId,
      locked: account ? { account, facts } : null,
    });
    if (replayed) return;
    log.debug({ orderId: order.orderId, tier: facts.tier, lines, rulesVersion: rules.version, granted: award.granted, pending: window > 0 }, 'order earned points');
    // A refund that arrived before this order was parked: take it back now, in the same transaction.
    if (parkedRefunds) await applyParkedRefunds(kit, em, order.orderId);
  };
}
