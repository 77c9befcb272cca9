import { CouponEntity } from './coupon.entity';
import { CouponTemplateEntity } from './coupon-template.entity';

export const entities = [CouponTemplateEntity, CouponEntity];
