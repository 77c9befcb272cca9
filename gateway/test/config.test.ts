import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@membergraph/platform/config';
import { REPO_ROOT, gatewayConfigSchema, subgraphUrlOverrides } from '../src/config';

describe('gateway config', () => {
  it('has working defaults', () => {
    const config = loadConfig(gatewayConfigSchema, {});
    expect(config).toMatchObject({
      GATEWAY_PORT: 4000,
      SUPERGRAPH_PATH: join(REPO_ROOT, 'gateway', 'supergraph.graphql'),
      MAX_QUERY_DEPTH: 12,
      MAX_QUERY_ALIASES: 30,
      MAX_BODY_BYTES: 1024 * 1024,
      SUBGRAPH_CONNECTIONS: 64,
      APOLLO_TELEMETRY: false,
    });
    expect(subgraphUrlOverrides(config)).toEqual({});
  });

  it('reads subgraph URL overrides and limits from the environment', () => {
    const config = loadConfig(gatewayConfigSchema, {
      GATEWAY_PORT: '0',
      SUPERGRAPH_PATH: '/etc/membergraph/supergraph.graphql',
      MEMBER_SUBGRAPH_URL: 'http://127.0.0.1:4001/graphql',
      ANALYTICS_SUBGRAPH_URL: 'http://127.0.0.1:4005/graphql',
      WALLET_SUBGRAPH_URL: '',
      MAX_QUERY_DEPTH: '8',
    });
    expect(config.GATEWAY_PORT).toBe(0);
    expect(config.SUPERGRAPH_PATH).toBe('/etc/membergraph/supergraph.graphql');
    expect(config.MAX_QUERY_DEPTH).toBe(8);
    expect(subgraphUrlOverrides(config)).toEqual({
      member: 'http://127.0.0.1:4001/graphql',
      analytics: 'http://127.0.0.1:4005/graphql',
    });
  });

  it('fails fast with one line per bad variable', () => {
    expect(() => loadConfig(gatewayConfigSchema, { POINTS_SUBGRAPH_URL: 'not a url', MAX_QUERY_DEPTH: '0' })).toThrow(ConfigError);
    try {
      loadConfig(gatewayConfigSchema, { POINTS_SUBGRAPH_URL: 'not a url', MAX_QUERY_DEPTH: '0' });
    } catch (err) {
      expect((err as ConfigError).issues.join('\n')).toMatch(/POINTS_SUBGRAPH_URL/);
      expect((err as ConfigError).issues.join('\n')).toMatch(/MAX_QUERY_DEPTH/);
    }
  });
});
