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
    /** Seconds a checkout may keep a coupon LOCKED before the lock lapses and the coupon is released. */
    LOCK_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
    /** How often the sweeper releases lapsed locks, in ms; 0 turns the sweeper off. */
    LOCK_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
    /** Coupons one sweep transaction releases at most. */
    LOCK_SWEEP_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  },
);

export type MarketingConfig = z.infer<typeof marketingConfigSchema>;
export const loadMarketingConfig = (env?: Record<string, string | undefined>) => loadConfig(marketingConfigSchema, env);
