import { EventType, eventData } from '@membergraph/contracts';
import type { EventHandler, ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../../config';
import { recordRefund } from '../../services/points-refund.service';

/** `order.refunded` -> the order's earning taken back in proportion, once per refund id (parked if the order has not earned yet). */
export function orderRefundedHandler(kit: ServiceKit<PointsConfig>): EventHandler {
  return async ({ em }, event) => {
    await recordRefund(kit, em, eventData(EventType.OrderRefunded, event));
  };
}
