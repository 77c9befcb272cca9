import { z } from 'zod';
import { loadConfig, serviceConfigSchema, isValidTimeZone } from '@membergraph/platform';
import { EVALUATION_PERIODS } from './domain/evaluation-schedule';

const DEV_ADMIN_PASSWORD = 'admin-dev-password';
// Development-only keys; production must bring its own (enforced below).
const DEV_PII_MASTER_KEY = '6d656d62657267726170682d6465762d6d61737465722d6b65792d2d2d2d2d21';
const DEV_PII_INDEX_KEY = '6d656d62657267726170682d6465762d696e6465782d6b65792d2d2d2d2d2d21';
const DEV_EMAIL_VERIFICATION_URL = 'http://localhost:3000/verify-email';
const key32 = z.string().regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, 'must be 32 bytes as 64 hex chars or base64');

export const memberConfigSchema = serviceConfigSchema(
  { port: 4001, database: 'membergraph_member' },
  {
    ADMIN_USERNAME: z.string().min(3).default('admin'),
    ADMIN_PASSWORD: z.string().min(8).default(DEV_ADMIN_PASSWORD),
    PII_MASTER_KEY: key32.default(DEV_PII_MASTER_KEY),
    PII_INDEX_KEY: key32.default(DEV_PII_INDEX_KEY),
    STAFF_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(8 * 3600),
    MEMBER_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(7 * 24 * 3600),
    CLIENT_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
    /** Where SMS and email go; only the local recorder exists so far, and it is refused in production. */
    MESSAGE_PROVIDER: z.enum(['local']).default('local'),
    /** Who turns a WeChat/Alipay authorisation code into the user's ids; only the local adapter (`local:<openId>[:<unionId>]` codes) exists so far, refused in production. */
    SOCIAL_AUTH_PROVIDER: z.enum(['local']).default('local'),
    /** How long an email verification link works. */
    EMAIL_VERIFICATION_TTL_SECONDS: z.coerce.number().int().min(300).max(7 * 24 * 3600).default(24 * 3600),
    /** The page the verification link opens (it calls verifyEmail with the `token` query parameter). */
    EMAIL_VERIFICATION_URL: z.string().url().default(DEV_EMAIL_VERIFICATION_URL),
    /** Verification emails a member may ask for per minute and per day. */
    EMAIL_VERIFICATION_PER_MINUTE: z.coerce.number().int().min(1).default(1),
    EMAIL_VERIFICATION_PER_DAY: z.coerce.number().int().min(1).default(5),
    OTP_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
    OTP_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
    OTP_PHONE_PER_MINUTE: z.coerce.number().int().min(1).default(1),
    OTP_PHONE_PER_DAY: z.coerce.number().int().min(1).default(10),
    OTP_IP_PER_HOUR: z.coerce.number().int().min(1).default(20),
    STAFF_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
    STAFF_LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(15 * 60),
    /** Growth value a yuan paid earns (whole points; DOMAIN.md default 1). */
    GROWTH_PER_YUAN: z.coerce.number().int().min(0).max(1000).default(1),
    /** Rolling window of annual spend and growth for tiers, in months. */
    TIER_WINDOW_MONTHS: z.coerce.number().int().min(1).max(60).default(12),
    /** No downgrade within this many days after a member moved up. */
    TIER_PROTECTION_DAYS: z.coerce.number().int().min(0).max(3650).default(90),
    /** The tenant's time zone: business days of the scheduled jobs (birthdays, evaluation dates) are its calendar days. */
    TENANT_TIME_ZONE: z.string().refine(isValidTimeZone, 'must be an IANA time zone, e.g. Asia/Shanghai').default('Asia/Shanghai'),
    /** Months between tier evaluations (DOMAIN.md: quarterly); they run on the 1st of every such period from January. */
    TIER_EVALUATION_MONTHS: z.coerce
      .number()
      .int()
      .refine((m) => (EVALUATION_PERIODS as readonly number[]).includes(m), 'must divide the year: 1, 2, 3, 4, 6 or 12')
      .default(3),
    /** Days before an evaluation that a member it would move down is warned (member.tier_downgrade_warning). */
    TIER_WARNING_DAYS: z.coerce.number().int().min(1).max(366).default(30),
    /** Days ahead of a birthday that member.birthday_upcoming goes out. */
    BIRTHDAY_NOTICE_DAYS: z.coerce.number().int().min(0).max(366).default(7),
    /** How often each replica checks for scheduled jobs due (0 = never: run them by hand or elsewhere). */
    JOB_CHECK_INTERVAL_MS: z.coerce.number().int().min(0).default(5 * 60_000),
    /** Missed business days the scheduler still runs late (after downtime) for birthdays and tier evaluations. */
    JOB_CATCH_UP_DAYS: z.coerce.number().int().min(0).max(31).default(3),
    /** How long a replica's claim on a scheduled run stands before another replica may take the run over. */
    JOB_LEASE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
  },
).superRefine((cfg, ctx) => {
  if (cfg.NODE_ENV !== 'production') return;
  if (cfg.ADMIN_PASSWORD === DEV_ADMIN_PASSWORD) ctx.addIssue({ code: 'custom', path: ['ADMIN_PASSWORD'], message: 'must be set in production' });
  if (cfg.PII_MASTER_KEY === DEV_PII_MASTER_KEY) ctx.addIssue({ code: 'custom', path: ['PII_MASTER_KEY'], message: 'must be set in production' });
  if (cfg.PII_INDEX_KEY === DEV_PII_INDEX_KEY) ctx.addIssue({ code: 'custom', path: ['PII_INDEX_KEY'], message: 'must be set in production' });
  if (cfg.EMAIL_VERIFICATION_URL === DEV_EMAIL_VERIFICATION_URL) {
    ctx.addIssue({ code: 'custom', path: ['EMAIL_VERIFICATION_URL'], message: 'must be set in production (the page members open from the email)' });
  }
  if (cfg.SOCIAL_AUTH_PROVIDER === 'local') {
    ctx.addIssue({ code: 'custom', path: ['SOCIAL_AUTH_PROVIDER'], message: 'the local adapter trusts any local:<openId> code: not for production' });
  }
  if (cfg.MESSAGE_PROVIDER === 'local') {
    ctx.addIssue({ code: 'custom', path: ['MESSAGE_PROVIDER'], message: 'the local recorder keeps messages instead of sending them: not for production' });
  }
});

export type MemberConfig = z.infer<typeof memberConfigSchema>;
export const isDevAdminPassword = (cfg: MemberConfig) => cfg.ADMIN_PASSWORD === DEV_ADMIN_PASSWORD;
export const loadMemberConfig = (env?: Record<string, string | undefined>) => loadConfig(memberConfigSchema, env);
