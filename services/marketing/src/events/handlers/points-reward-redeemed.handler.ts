import type { EventHandler, ServiceKit } from '@membergraph/platform';
import { EventType, eventData } from '@membergraph/contracts';
import { issueRewardCoupons } from '../../services/coupon.service';

/**
 * `points.reward_redeemed`: a member spent points on a COUPON reward, so they receive `quantity`
 * coupons of its template, once per redemption (the inbox skips a redelivery; the coupons' issue
 * keys stop a second event about the same redemption). GIFT and VIRTUAL redemptions are not ours.
 * An unknown template throws: the event is retried, then dead-lettered for an operator to replay
 * once the template exists (the member has paid for the coupons; they must not be dropped).
 */
export function pointsRewardRedeemedHandler(kit: ServiceKit): EventHandler {
  return async ({ em, log }, event) => {
    const redemption = eventData(EventType.PointsRewardRedeemed, event);
    if (redemption.rewardType !== 'COUPON') return;
    if (!redemption.couponTemplateId) {
      // The points service refuses COUPON rewards without a template; nothing could be issued anyway.
      log.error({ redemptionId: redemption.redemptionId, rewardId: redemption.rewardId }, 'COUPON redemption without a coupon template: nothing issued');
      return;
    }
    const issued = await issueRewardCoupons(kit, em, {
      redemptionId: redemption.redemptionId,
      memberId: redemption.memberId,
      templateRef: redemption.couponTemplateId,
      quantity: redemption.quantity,
    });
    log.debug({ redemptionId: redemption.redemptionId, memberId: redemption.memberId, coupons: issued.length }, 'reward coupons issued');
  };
}
