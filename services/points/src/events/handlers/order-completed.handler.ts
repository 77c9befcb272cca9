import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler, ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../../config';
import { computeEarn, earnTotal, promotionExpiryDays } from '../../domain/earn';
import { EarnReason, idempotencyKeys } from '../../domain/ledger';
import { currentEarnRules, tierOf } from '../../services/earn-rules.service';
import { awardCapped } from '../../services/points-award.service';
import { releaseAtFor } from '../../services/points-pending.service';
import { CappedRule } from '../../domain/behaviour';
import { applyParkedRefunds } from '../../services/points-refund.service';
import { statusOf } from '../../services/member-status.service';
import { mayEarn } from '../../domain/member-status';

/**
 * `order.completed` -> points by the earn rules in force (the store's rate, the lines' category
 * rates), the member's projected tier and the promotions of the day the order completed (tenant
 * time zone), once per order, under the daily caps; PENDING until the return window closes when
 * RETURN_WINDOW_DAYS > 0. A promotion's `expiryDays` shortens the order's lot.
 */
export function orderCompletedHandler(kit: ServiceKit<PointsConfig>): EventHandler {
  return async ({ em, log }, event) => {
    const order = eventData(EventType.OrderCompleted, event);
    // One after the other: both run on the transaction's single connection.
    const rules = await currentEarnRules(kit, em);
    const tier = await tierOf(em, order.memberId);
    const completedAt = new Date(order.completedAt);
    const lines = computeEarn({ amount: order.amount, storeId: order.storeId, lines: order.lines }, rules, tier, completedAt, rules.timeZone);
    const amount = earnTotal(lines);
    const status = await statusOf(em, order.memberId);
    if (!mayEarn(status)) {
      log.info({ orderId: order.orderId, memberId: order.memberId, status, amount }, 'member may not earn: no points for the order');
      return;
    }
    // Under one yuan earns nothing, and the ledger never holds a zero entry.
    if (amount === 0) return;
    const window = kit.config.RETURN_WINDOW_DAYS;
    // Daily caps count in the business day the order completed; inside a return window the points wait.
    const { award, replayed } = await awardCapped(kit, em, {
      memberId: order.memberId,
      rule: CappedRule.ORDER,
      requested: amount,
      reason: EarnReason.ORDER,
      reference: order.orderId,
      key: idempotencyKeys.order(order.orderId),
      earnedAt: completedAt,
      pendingUntil: window > 0 ? { orderId: order.orderId, releaseAt: releaseAtFor(completedAt, window) } : null,
      // A promotion of the order's day may keep its points for fewer days than the policy.
      lotExpiryDays: promotionExpiryDays(rules, completedAt, rules.timeZone),
    });
    if (replayed) return;
    log.debug({ orderId: order.orderId, tier, lines, rulesVersion: rules.version, granted: award.granted, pending: window > 0 }, 'order earned points');
    // A refund that arrived before this order was parked: take it back now, in the same transaction.
    await applyParkedRefunds(kit, em, order.orderId);
  };
}
