/**
 * The whole platform for an end-to-end test file: the five subgraphs in-process on the file's own
 * databases and NATS prefix, the gateway in front, and an ADMIN token. Registers vitest hooks.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { loadConfig } from '@membergraph/platform';
import { createTestScope, gql, startApp, type Env } from '@membergraph/testkit';
import { createGateway } from '../../src/app';
import { gatewayConfigSchema } from '../../src/config';
import { createApp as member } from '../../../services/member/src/app';
import { createApp as points } from '../../../services/points/src/app';
import { createApp as wallet } from '../../../services/wallet/src/app';
import { createApp as marketing } from '../../../services/marketing/src/app';
import { createApp as analytics } from '../../../services/analytics/src/app';

const factories = { member, points, wallet, marketing, analytics };
export type ServiceName = keyof typeof factories;

const ADMIN_PASSWORD = 'e2e-admin-password';

export interface PlatformUnderTest {
  /** The gateway's GraphQL URL. */
  readonly url: string;
  /** A staff token of the bootstrap ADMIN, from `staffLogin` through the gateway. */
  readonly admin: string;
}

/** Starts everything before the file's tests and stops it after; `env` adds settings per service. */
export function platformUnderTest(env: Partial<Record<ServiceName, Env>> = {}): PlatformUnderTest {
  const scope = createTestScope();
  const apps: Array<{ stop(): Promise<void> }> = [];
  let gateway: ReturnType<typeof createGateway> | undefined;
  let url = '';
  let admin = '';

  beforeAll(async () => {
    const urls: Record<string, string> = {};
    for (const [name, create] of Object.entries(factories)) {
      const app = await startApp(create(scope.env(name, { ADMIN_PASSWORD, ...env[name as ServiceName] })));
      apps.push(app);
      urls[`${name.toUpperCase()}_SUBGRAPH_URL`] = app.url;
    }
    gateway = createGateway(loadConfig(gatewayConfigSchema, { ...scope.env('gateway'), GATEWAY_PORT: '0', ...urls }));
    url = (await gateway.start()).url;
    const login = await gql(url, `mutation($p: String!) { staffLogin(input: {username: "admin", password: $p}) { token } }`, { p: ADMIN_PASSWORD });
    expect(login.errors).toBeUndefined();
    admin = login.data.staffLogin.token;
  });

  afterAll(async () => {
    await gateway?.stop();
    for (const app of apps.reverse()) await app.stop();
    await scope.cleanup();
  });

  return {
    get url() {
      return url;
    },
    get admin() {
      return admin;
    },
  };
}
