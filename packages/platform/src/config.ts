import { z } from 'zod';

/** Raised at start when the environment does not satisfy a service's config schema. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const DEV_JWT_SECRET = 'membergraph-dev-secret-change-me-0123456789';

/** The settings every MemberGraph process shares; services extend it with their own. */
export const baseConfigSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    HOST: z.string().default('0.0.0.0'),
    MYSQL_URL: z
      .string()
      .url()
      .default('mysql://root@127.0.0.1:3306')
      .describe('server URL without a database; each service uses its own DB_NAME'),
    NATS_URL: z.string().default('nats://127.0.0.1:4222'),
    NATS_PREFIX: z
      .string()
      .regex(/^([a-z0-9_-]+\.)?$/i, 'must be empty or a token followed by a dot, e.g. "t42."')
      .default(''),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEV_JWT_SECRET),
    JWT_ISSUER: z.string().default('membergraph'),
    OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.NODE_ENV === 'production' && cfg.JWT_SECRET === DEV_JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'must be set in production' });
    }
  });

export type BaseConfig = z.infer<typeof baseConfigSchema>;

/** Validates `env` against `schema` and fails fast with one line per bad or missing variable. */
export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined> = process.env): z.infer<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return result.data;
}

/** Builds a service schema: the base settings plus the service's own (PORT default, DB name...). */
export function serviceConfigSchema<T extends z.ZodRawShape>(defaults: { port: number; database: string }, extra: T) {
  return baseConfigSchema.and(
    z.object({
      PORT: z.coerce.number().int().min(0).max(65535).default(defaults.port),
      DB_NAME: z.string().regex(/^[A-Za-z0-9_]+$/).default(defaults.database),
      DB_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
      /** Events each consumer applies at once (in per-subject lanes); each needs a pooled connection while it runs. */
      CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
      /** Queued events of one lane applied in one transaction (1 = each alone). */
      CONSUMER_BATCH: z.coerce.number().int().min(1).max(256).default(16),
      ...extra,
    }),
  );
}
