import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler, ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../../config';
import { computeEarn, earnTotal } from '../../domain/earn';
import { EarnReason, idempotencyKeys } from '../../domain/ledger';
import { currentEarnRules, tierOf } from '../../services/earn-rules.service';
import { earnPoints } from '../../services/points-ledger.service';
import { applyParkedRefunds } from '../../services/points-refund.service';
import { statusOf } from '../../services/member-status.service';
import { mayEarn } from '../../domain/member-status';

/**
 * `order.completed` -> points by the earn rules in force, the member's projected tier and the
 * promotions of the day the order completed (tenant time zone), once per order.
 */
export function orderCompletedHandler(kit: ServiceKit<PointsConfig>): EventHandler {
  return async ({ em, log }, event) => {
    const order = eventData(EventType.OrderCompleted, event);
    // One after the other: both run on the transaction's single connection.
    const rules = await currentEarnRules(kit, em);
    const tier = await tierOf(em, order.memberId);
    const lines = computeEarn({ amount: order.amount }, rules, tier, new Date(order.completedAt), rules.timeZone);
    const amount = earnTotal(lines);
    const status = await statusOf(em, order.memberId);
    if (!mayEarn(status)) {
      log.info({ orderId: order.orderId, memberId: order.memberId, status, amount }, 'member may not earn: no points for the order');
      return;
    }
    // Under one yuan earns nothing, and the ledger never holds a zero entry.
    if (amount === 0) return;
    const entry = await earnPoints(kit, em, {
      memberId: order.memberId,
      amount,
      reason: EarnReason.ORDER,
      reference: order.orderId,
      idempotencyKey: idempotencyKeys.order(order.orderId),
    });
    if (!entry) return;
    log.debug({ orderId: order.orderId, tier, lines, rulesVersion: rules.version }, 'order earned points');
    // A refund that arrived before this order was parked: take it back now, in the same transaction.
    await applyParkedRefunds(kit, em, order.orderId);
  };
}
