import { z } from 'zod';
import { loadConfig, serviceConfigSchema } from '@membergraph/platform';

export const walletConfigSchema = serviceConfigSchema(
  { port: 4003, database: 'membergraph_wallet' },
  {
    /** Currency of new stored-value accounts (ISO 4217); amounts are in its minor unit (fen). */
    WALLET_CURRENCY: z.enum(['CNY']).default('CNY'),
  },
);

export type WalletConfig = z.infer<typeof walletConfigSchema>;
export const loadWalletConfig = (env?: Record<string, string | undefined>) => loadConfig(walletConfigSchema, env);
