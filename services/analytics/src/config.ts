import { z } from 'zod';
import { loadConfig, serviceConfigSchema } from '@membergraph/platform';

export const analyticsConfigSchema = serviceConfigSchema(
  { port: 4005, database: 'membergraph_analytics' },
  {
    /** Attempts at one event before it is parked in the dead-letter stream. */
    EVENT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
  },
);

export type AnalyticsConfig = z.infer<typeof analyticsConfigSchema>;
export const loadAnalyticsConfig = (env?: Record<string, string | undefined>) => loadConfig(analyticsConfigSchema, env);
