import { z } from 'zod';
import { loadConfig, serviceConfigSchema } from '@membergraph/platform';

export const pointsConfigSchema = serviceConfigSchema(
  { port: 4002, database: 'membergraph_points' },
  {
    /** Points credited once when a member registers; 0 turns the welcome bonus off. */
    WELCOME_POINTS: z.coerce.number().int().min(0).max(1_000_000).default(100),
    /** Points per whole yuan paid on a completed order. */
    POINTS_PER_YUAN: z.coerce.number().int().min(0).max(1_000).default(1),
  },
);

export type PointsConfig = z.infer<typeof pointsConfigSchema>;
export const loadPointsConfig = (env?: Record<string, string | undefined>) => loadConfig(pointsConfigSchema, env);
