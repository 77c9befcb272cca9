import { z } from 'zod';
import { loadConfig, serviceConfigSchema } from '@membergraph/platform';
import type { ExpiryPolicy } from './domain/expiry';
import { isValidTimeZone } from './domain/time';

export const pointsConfigSchema = serviceConfigSchema(
  { port: 4002, database: 'membergraph_points' },
  {
    /** Points credited once when a member registers; 0 turns the welcome bonus off. */
    WELCOME_POINTS: z.coerce.number().int().min(0).max(1_000_000).default(100),
    /** Points per whole yuan paid on a completed order, until earn rules are saved. */
    POINTS_PER_YUAN: z.coerce.number().int().min(0).max(1_000).default(1),
    /** The tenant's time zone: business days for promotions and the end of year for expiry. */
    TENANT_TIME_ZONE: z.string().refine(isValidTimeZone, 'must be an IANA time zone, e.g. Asia/Shanghai').default('Asia/Shanghai'),
    /** How lots expire: a rolling number of months after earning, or at the end of the following year. */
    POINTS_EXPIRY_POLICY: z.enum(['ROLLING_MONTHS', 'END_OF_NEXT_YEAR']).default('ROLLING_MONTHS'),
    /** Months a lot lives under ROLLING_MONTHS. */
    POINTS_EXPIRY_MONTHS: z.coerce.number().int().min(1).max(120).default(12),
    /** Members per transaction in the expiry job (each chunk commits on its own). */
    EXPIRY_BATCH_MEMBERS: z.coerce.number().int().min(1).max(10_000).default(500),
    /** Seconds a checkout hold stays open when the caller gives no ttlSeconds; then it releases itself. */
    HOLD_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
    /** How often this replica looks for expired holds, in ms; 0 turns the sweeper off (runHoldExpiry still works). */
    HOLD_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
    /** A refund of points already spent: DEBT (the available balance goes negative, later points repay it) or CAP_AT_ZERO (the rest is forgiven). */
    REFUND_POLICY: z.enum(['DEBT', 'CAP_AT_ZERO']).default('DEBT'),
  },
);

export type PointsConfig = z.infer<typeof pointsConfigSchema>;
export const loadPointsConfig = (env?: Record<string, string | undefined>) => loadConfig(pointsConfigSchema, env);

/** The expiry policy the config describes. */
export function expiryPolicyOf(config: PointsConfig): ExpiryPolicy {
  return config.POINTS_EXPIRY_POLICY === 'END_OF_NEXT_YEAR'
    ? { kind: 'END_OF_NEXT_YEAR', timeZone: config.TENANT_TIME_ZONE }
    : { kind: 'ROLLING_MONTHS', months: config.POINTS_EXPIRY_MONTHS };
}
