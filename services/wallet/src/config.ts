import { z } from 'zod';
import { isValidTimeZone, loadConfig, serviceConfigSchema } from '@membergraph/platform';

const fen = () => z.coerce.number().int().positive();

export const walletConfigSchema = serviceConfigSchema(
  { port: 4003, database: 'membergraph_wallet' },
  {
    /** Currency of new stored-value accounts (ISO 4217); amounts are in its minor unit (fen). */
    WALLET_CURRENCY: z.enum(['CNY']).default('CNY'),
    /** Payments above this many fen need the member's PAYMENT one-time code (500 yuan). */
    PAYMENT_OTP_THRESHOLD: z.coerce.number().int().nonnegative().default(50_000),
    /** Points worth one yuan when paying with points. */
    POINTS_PER_YUAN: z.coerce.number().int().positive().max(1_000_000).default(100),
    /** At most this share of an order (percent) may be paid with points. */
    POINTS_MAX_SHARE_PERCENT: z.coerce.number().int().min(0).max(100).default(50),
    /** Seconds a checkout's holds live; an unfinished checkout is released after it. */
    PAYMENT_HOLD_TTL_SECONDS: z.coerce.number().int().positive().max(3_600).default(300),
    /** How long the process driving a checkout owns it before recovery may take it over (ms). */
    PAYMENT_LEASE_MS: z.coerce.number().int().positive().default(30_000),
    /** How often the recovery loop looks for unfinished checkouts (ms); 0 = only at start. */
    PAYMENT_RECOVERY_INTERVAL_MS: z.coerce.number().int().nonnegative().default(5_000),
    /** Timeout of calls to the points and member services (ms). */
    RPC_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
    /** How often the sealer chains newly committed journals into the hash chain (ms). */
    JOURNAL_SEAL_INTERVAL_MS: z.coerce.number().int().positive().max(60_000).default(100),
    /** Risk: most balance one payment may take, in fen (5,000 yuan). */
    RISK_SINGLE_PAYMENT_CAP: fen().default(500_000),
    /** Risk: most balance a member may spend in one business day, in fen (20,000 yuan). */
    RISK_DAILY_CAP: fen().default(2_000_000),
    /** Risk: more than this many balance payments by one member within the velocity window are refused (0: rule off). */
    RISK_VELOCITY_MAX_PAYMENTS: z.coerce.number().int().min(0).max(100_000).default(10),
    /** Risk: the velocity window, in minutes. */
    RISK_VELOCITY_WINDOW_MINUTES: z.coerce.number().int().min(1).max(1_440).default(10),
    /** Risk: this many risk hits by one member within the freeze window freeze the wallet (0: never automatically). */
    RISK_FREEZE_AFTER_HITS: z.coerce.number().int().min(0).max(1_000).default(3),
    /** Risk: the auto-freeze window, in minutes. */
    RISK_FREEZE_WINDOW_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),
    /** The tenant's time zone: business days (daily caps) start at its midnight. */
    BUSINESS_TIME_ZONE: z
      .string()
      .refine(isValidTimeZone, 'must be an IANA time zone')
      .default('Asia/Shanghai'),
  },
);

export type WalletConfig = z.infer<typeof walletConfigSchema>;
export const loadWalletConfig = (env?: Record<string, string | undefined>) => loadConfig(walletConfigSchema, env);
