import { CouponEntity } from './coupon.entity';
import { CouponTemplateEntity } from './coupon-template.entity';
import { CouponUseEntity } from './coupon-use.entity';

export const entities = [CouponTemplateEntity, CouponEntity, CouponUseEntity];
