import { z } from 'zod';
import { loadConfig, serviceConfigSchema } from '@membergraph/platform';

const DEV_ADMIN_PASSWORD = 'admin-dev-password';
// Development-only keys; production must bring its own (enforced below).
const DEV_PII_MASTER_KEY = '6d656d62657267726170682d6465762d6d61737465722d6b65792d2d2d2d2d21';
const DEV_PII_INDEX_KEY = '6d656d62657267726170682d6465762d696e6465782d6b65792d2d2d2d2d2d21';
const key32 = z.string().regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, 'must be 32 bytes as 64 hex chars or base64');

export const memberConfigSchema = serviceConfigSchema(
  { port: 4001, database: 'membergraph_member' },
  {
    ADMIN_USERNAME: z.string().min(3).default('admin'),
    ADMIN_PASSWORD: z.string().min(8).default(DEV_ADMIN_PASSWORD),
    PII_MASTER_KEY: key32.default(DEV_PII_MASTER_KEY),
    PII_INDEX_KEY: key32.default(DEV_PII_INDEX_KEY),
    STAFF_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(8 * 3600),
  },
).superRefine((cfg, ctx) => {
  if (cfg.NODE_ENV !== 'production') return;
  if (cfg.ADMIN_PASSWORD === DEV_ADMIN_PASSWORD) ctx.addIssue({ code: 'custom', path: ['ADMIN_PASSWORD'], message: 'must be set in production' });
  if (cfg.PII_MASTER_KEY === DEV_PII_MASTER_KEY) ctx.addIssue({ code: 'custom', path: ['PII_MASTER_KEY'], message: 'must be set in production' });
  if (cfg.PII_INDEX_KEY === DEV_PII_INDEX_KEY) ctx.addIssue({ code: 'custom', path: ['PII_INDEX_KEY'], message: 'must be set in production' });
});

export type MemberConfig = z.infer<typeof memberConfigSchema>;
export const isDevAdminPassword = (cfg: MemberConfig) => cfg.ADMIN_PASSWORD === DEV_ADMIN_PASSWORD;
export const loadMemberConfig = (env?: Record<string, string | undefined>) => loadConfig(memberConfigSchema, env);
