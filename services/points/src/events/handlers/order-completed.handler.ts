import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler, ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../../config';
import { pointsForOrder } from '../../domain/earn';
import { EarnReason, idempotencyKeys } from '../../domain/ledger';
import { earnPoints } from '../../services/points-ledger.service';

/** `order.completed` -> points for the amount paid, once per order. */
export function orderCompletedHandler(kit: ServiceKit<PointsConfig>): EventHandler {
  return async ({ em }, event) => {
    const order = eventData(EventType.OrderCompleted, event);
    const amount = pointsForOrder(order.amount, { pointsPerYuan: kit.config.POINTS_PER_YUAN });
    // Under one yuan earns nothing, and the ledger never holds a zero entry.
    if (amount === 0) return;
    await earnPoints(kit, em, {
      memberId: order.memberId,
      amount,
      reason: EarnReason.ORDER,
      reference: order.orderId,
      idempotencyKey: idempotencyKeys.order(order.orderId),
    });
  };
}
