import { z } from 'zod';
import { loadConfig, serviceConfigSchema } from '@membergraph/platform';
import type { ExpiryPolicy } from './domain/expiry';
import { isValidTimeZone } from '@membergraph/platform';
import { parseDailyCaps } from './domain/behaviour';
import { parseTimeOfDay } from './domain/schedule';

/** A local time of day written HH:MM, parsed to minutes after midnight. */
const timeOfDay = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      try {
        return parseTimeOfDay(s);
      } catch (err) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
        return z.NEVER;
      }
    });

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
    /** Check-in points per streak day, comma-separated (day 1, day 2, ...); the ladder starts over after its last day. */
    CHECK_IN_LADDER: z
      .string()
      .regex(/^\d{1,6}(,\d{1,6}){0,59}$/, 'must be 1-60 comma-separated point amounts, e.g. 5,5,5,5,5,5,20')
      .default('5,5,5,5,5,5,20')
      .transform((s) => s.split(',').map(Number)),
    /** Points for a review reported by an integration (awardBehaviourPoints). */
    REVIEW_POINTS: z.coerce.number().int().min(0).max(1_000_000).default(10),
    /** Points for a share reported by an integration. */
    SHARE_POINTS: z.coerce.number().int().min(0).max(1_000_000).default(5),
    /** Points once per member when their profile is first complete (member.profile_completed or an integration). */
    PROFILE_COMPLETED_POINTS: z.coerce.number().int().min(0).max(1_000_000).default(50),
    /** Per-member daily caps in the tenant business day: RULE=n,... over ORDER, CHECK_IN, REVIEW, SHARE, PROFILE_COMPLETED and TOTAL (all of them); a rule left out is uncapped. */
    POINTS_DAILY_CAPS: z
      .string()
      .default('REVIEW=50,SHARE=20')
      .transform((s, ctx) => {
        try {
          return parseDailyCaps(s);
        } catch (err) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
          return z.NEVER;
        }
      }),
    /** Days an order's points stay PENDING (not spendable) before they are credited; 0 credits them at once. */
    RETURN_WINDOW_DAYS: z.coerce.number().int().min(0).max(365).default(0),
    /** How often this replica credits pending points whose window closed, in ms; 0 turns the worker off (runPendingRelease still works). */
    PENDING_RELEASE_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
    /** The velocity rules' window, in minutes. */
    EARN_VELOCITY_WINDOW_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),
    /** More earnings than this by one member in the window go to review; 0 turns the rule off. */
    EARN_VELOCITY_MAX_EVENTS: z.coerce.number().int().min(0).max(1_000_000).default(20),
    /** More points than this earned by one member in the window go to review; 0 turns the rule off. */
    EARN_VELOCITY_MAX_POINTS: z.coerce.number().int().min(0).max(1_000_000_000).default(50_000),
    /** More members than this earning from one device (awardBehaviourPoints deviceId) in the window go to review; 0 = off. */
    EARN_VELOCITY_MAX_MEMBERS_PER_DEVICE: z.coerce.number().int().min(0).max(1_000_000).default(3),
    /** More members than this earning from one IP address (awardBehaviourPoints ip) in the window go to review; 0 = off. */
    EARN_VELOCITY_MAX_MEMBERS_PER_IP: z.coerce.number().int().min(0).max(1_000_000).default(10),
    /** Local time (HH:MM, tenant time zone) from which the day's points expiry run is due; it runs once per business day. */
    POINTS_EXPIRY_RUN_AT: timeOfDay('00:05'),
    /** Local time (HH:MM, tenant time zone) from which the day's expiring-soon reminders are due; once per business day. */
    EXPIRY_REMINDER_RUN_AT: timeOfDay('10:00'),
    /** How often each replica checks whether a daily job is due, in ms; 0 turns the scheduler off (runPointsExpiry / runExpiryReminders still work). */
    DAILY_JOBS_CHECK_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
    /** Minutes a replica's claim on a daily run lasts before another replica may take over an unfinished run. */
    DAILY_JOBS_LEASE_MINUTES: z.coerce.number().int().min(1).max(1_440).default(30),
  },
);

export type PointsConfig = z.infer<typeof pointsConfigSchema>;
export const loadPointsConfig = (env?: Record<string, string | undefined>) => loadConfig(pointsConfigSchema, env);

/** The velocity limits the config describes. */
export function velocityLimitsOf(config: PointsConfig) {
  return {
    windowMs: config.EARN_VELOCITY_WINDOW_MINUTES * 60_000,
    maxEvents: config.EARN_VELOCITY_MAX_EVENTS,
    maxPoints: config.EARN_VELOCITY_MAX_POINTS,
    maxMembersPerDevice: config.EARN_VELOCITY_MAX_MEMBERS_PER_DEVICE,
    maxMembersPerIp: config.EARN_VELOCITY_MAX_MEMBERS_PER_IP,
  };
}

/** The expiry policy the config describes. */
export function expiryPolicyOf(config: PointsConfig): ExpiryPolicy {
  return config.POINTS_EXPIRY_POLICY === 'END_OF_NEXT_YEAR'
    ? { kind: 'END_OF_NEXT_YEAR', timeZone: config.TENANT_TIME_ZONE }
    : { kind: 'ROLLING_MONTHS', months: config.POINTS_EXPIRY_MONTHS };
}
