import { z } from 'zod';
import { loadConfig, serviceConfigSchema } from '@membergraph/platform';
import { MAX_VALID_DAYS } from './domain/coupon-template';

export const marketingConfigSchema = serviceConfigSchema(
  { port: 4004, database: 'membergraph_marketing' },
  {
    /** Value of the WELCOME coupon seeded at first start, in fen. */
    WELCOME_COUPON_AMOUNT: z.coerce.number().int().positive().default(1000),
    /** Days a WELCOME coupon stays valid after issue. */
    WELCOME_COUPON_VALID_DAYS: z.coerce.number().int().min(1).max(MAX_VALID_DAYS).default(30),
  },
);

export type MarketingConfig = z.infer<typeof marketingConfigSchema>;
export const loadMarketingConfig = (env?: Record<string, string | undefined>) => loadConfig(marketingConfigSchema, env);
