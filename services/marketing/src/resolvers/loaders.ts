import DataLoader from 'dataloader';
import type { ServiceKit } from '@membergraph/platform';
import type { MarketingConfig } from '../config';
import type { CouponTemplateRow } from '../entities/coupon-template.entity';
import { templatesByIds } from '../services/coupon-template.service';

export interface MarketingLoaders {
  template: DataLoader<string, CouponTemplateRow | null>;
}

/** Per-request loaders: one query for the templates of every coupon in a response. */
export function marketingLoaders(kit: ServiceKit<MarketingConfig>): MarketingLoaders {
  return { template: new DataLoader((ids) => templatesByIds(kit.ds.manager, ids)) };
}
