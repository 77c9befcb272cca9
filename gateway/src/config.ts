import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { baseConfigSchema } from '@membergraph/platform/config';

/** The repository root (this file is gateway/src/config.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The subgraphs the supergraph names, in join__Graph order; `<NAME>_SUBGRAPH_URL` overrides each URL. */
export const SUBGRAPHS = ['member', 'points', 'wallet', 'marketing', 'analytics'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

const int = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def);
const url = () => z.string().url().optional();
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

/** Gateway settings: the shared base plus port, subgraph URLs, supergraph file and request limits. */
export const gatewayConfigSchema = baseConfigSchema.and(
  z.object({
    GATEWAY_PORT: int(0, 65535, 4000),
    SUPERGRAPH_PATH: z
      .string()
      .default('gateway/supergraph.graphql')
      .transform((p) => (isAbsolute(p) ? p : resolve(REPO_ROOT, p)))
      .describe('composed supergraph; relative paths are resolved from the repository root'),
    MEMBER_SUBGRAPH_URL: url(),
    POINTS_SUBGRAPH_URL: url(),
    WALLET_SUBGRAPH_URL: url(),
    MARKETING_SUBGRAPH_URL: url(),
    ANALYTICS_SUBGRAPH_URL: url(),
    /** Deepest field nesting an operation may have (introspection fields are not counted). */
    MAX_QUERY_DEPTH: int(1, 100, 12),
    /** Aliased fields per operation, fragments included (aliases multiply work and login/OTP attempts). */
    MAX_QUERY_ALIASES: int(0, 1000, 30),
    /** Lexical tokens per document (graphql-js parser limit: refuses huge documents before validation). */
    MAX_QUERY_TOKENS: int(100, 1_000_000, 5000),
    /** Largest accepted HTTP request body. */
    MAX_BODY_BYTES: int(1024, 100 * 1024 * 1024, 1024 * 1024),
    /** Keep-alive connections per subgraph origin. */
    SUBGRAPH_CONNECTIONS: int(1, 4096, 64),
    /** How long an idle subgraph connection stays open when the subgraph sends no Keep-Alive hint. */
    SUBGRAPH_KEEPALIVE_MS: int(100, 600_000, 4000),
    /** Time allowed for a subgraph's response headers, then for its body. */
    SUBGRAPH_TIMEOUT_MS: int(100, 600_000, 30_000),
    /** @apollo/gateway's anonymous usage telemetry to Apollo (off: no outbound calls from the gateway). */
    APOLLO_TELEMETRY: bool(false),
  }),
);

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** The URL overrides given in the environment, by subgraph name. */
export function subgraphUrlOverrides(config: GatewayConfig): Partial<Record<SubgraphName, string>> {
  const env: Record<SubgraphName, string | undefined> = {
    member: config.MEMBER_SUBGRAPH_URL,
    points: config.POINTS_SUBGRAPH_URL,
    wallet: config.WALLET_SUBGRAPH_URL,
    marketing: config.MARKETING_SUBGRAPH_URL,
    analytics: config.ANALYTICS_SUBGRAPH_URL,
  };
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v)) as Partial<Record<SubgraphName, string>>;
}
