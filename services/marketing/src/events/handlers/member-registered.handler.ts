import type { EventHandler, ServiceKit } from '@membergraph/platform';
import { EventType, eventData } from '@membergraph/contracts';
import { issueRegistrationCoupons } from '../../services/coupon.service';

/** `member.registered`: the new member receives a coupon from every registration template. */
export function memberRegisteredHandler(kit: ServiceKit): EventHandler {
  return async ({ em, log }, event) => {
    const { memberId } = eventData(EventType.MemberRegistered, event);
    const issued = await issueRegistrationCoupons(kit, em, memberId);
    if (issued.length) log.debug({ memberId, coupons: issued.length }, 'registration coupons issued');
  };
}
