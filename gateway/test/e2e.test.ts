/**
 * End to end through the gateway with all five real subgraphs in-process, on real MySQL and NATS:
 * the foundation's acceptance scenario.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, Role } from '@membergraph/platform';
import { createTestScope, eventually, gql, startApp, tokenFor } from '@membergraph/testkit';
import { createGateway } from '../src/app';
import { gatewayConfigSchema } from '../src/config';
import { createApp as member } from '../../services/member/src/app';
import { createApp as points } from '../../services/points/src/app';
import { createApp as wallet } from '../../services/wallet/src/app';
import { createApp as marketing } from '../../services/marketing/src/app';
import { createApp as analytics } from '../../services/analytics/src/app';

const scope = createTestScope();
const factories = { member, points, wallet, marketing, analytics };
const apps: Array<{ stop(): Promise<void> }> = [];
let gateway: ReturnType<typeof createGateway>;
let url: string;
let token: string;

const MEMBER_CARD = `query($id: ID!) {
  member(id: $id) {
    id name
    points { balance }
    wallet { balance }
    coupons { code status }
    insights { orderCount totalSpend }
  }
}`;

beforeAll(async () => {
  const urls: Record<string, string> = {};
  for (const [name, create] of Object.entries(factories)) {
    const app = await startApp(create(scope.env(name, { ADMIN_PASSWORD: 'e2e-admin-password' })));
    apps.push(app);
    urls[`${name.toUpperCase()}_SUBGRAPH_URL`] = app.url;
  }
  gateway = createGateway(loadConfig(gatewayConfigSchema, { ...scope.env('gateway'), GATEWAY_PORT: '0', ...urls }));
  url = (await gateway.start()).url;
  const login = await gql(url, `mutation { staffLogin(input: {username: "admin", password: "e2e-admin-password"}) { token expiresAt } }`);
  expect(login.errors).toBeUndefined();
  token = login.data.staffLogin.token;
});

afterAll(async () => {
  await gateway?.stop();
  for (const app of apps.reverse()) await app.stop();
  await scope.cleanup();
});

describe('a member registered at a store and buying once', () => {
  it('shows 228 points, an empty wallet, one welcome coupon and the order in insights; a replayed order changes nothing', async () => {
    const reg = await gql(url, `mutation { registerMember(input: {phone: "+8613800000001", name: "Li Lei", channel: STORE}) { id phone tier { code } } }`, undefined, token);
    expect(reg.errors).toBeUndefined();
    expect(reg.data.registerMember).toMatchObject({ phone: '+8613800000001', tier: { code: 'MEMBER' } });
    const id: string = reg.data.registerMember.id;

    const order = `mutation($m: ID!) { recordOrder(input: {source: "pos", externalId: "A-1", memberId: $m, amount: 12850, storeId: "s1", channel: STORE}) { id amount } }`;
    const first = await gql(url, order, { m: id }, token);
    expect(first.errors).toBeUndefined();
    expect(first.data.recordOrder.amount).toBe(12850);

    const expected = {
      id,
      name: 'Li Lei',
      points: { balance: 228 },
      wallet: { balance: 0 },
      coupons: [{ code: expect.any(String), status: 'ISSUED' }],
      insights: { orderCount: 1, totalSpend: 12850 },
    };
    await eventually(async () => {
      const card = await gql(url, MEMBER_CARD, { id }, token);
      expect(card.errors).toBeUndefined();
      expect(card.data.member).toEqual(expected);
    });

    const again = await gql(url, order, { m: id }, token);
    expect(again.data.recordOrder.id).toBe(first.data.recordOrder.id);
    // A later order for someone else is a barrier: once its effects are visible, anything the
    // replay could have caused (same streams, consumed in order) would be visible too.
    const barrier = await gql(url, `mutation { registerMember(input: {phone: "+8613800000003", name: "Barrier", channel: WEB}) { id } }`, undefined, token);
    const barrierId: string = barrier.data.registerMember.id;
    await gql(url, `mutation($m: ID!) { recordOrder(input: {source: "pos", externalId: "B-1", memberId: $m, amount: 100, channel: WEB}) { id } }`, { m: barrierId }, token);
    await eventually(async () => {
      const b = await gql(url, MEMBER_CARD, { id: barrierId }, token);
      expect(b.data.member).toMatchObject({ points: { balance: 101 }, insights: { orderCount: 1 }, coupons: [{ status: 'ISSUED' }] });
    });
    const card = await gql(url, MEMBER_CARD, { id }, token);
    expect(card.data.member).toEqual(expected);
  });

  it('refuses a request without a token, or with a forged one, with UNAUTHENTICATED', async () => {
    const anonymous = await gql(url, `{ members(first: 1) { edges { node { id } } } }`);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const forged = await tokenFor([Role.ADMIN], {}, 'someone-elses-secret-that-is-long-enough');
    const refused = await gql(url, `{ members(first: 1) { edges { node { id } } } }`, undefined, forged);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(refused.data ?? null).toBeNull();
  });

  it('keeps a member out of another member\'s points even through the gateway', async () => {
    const reg = await gql(url, `mutation { registerMember(input: {phone: "+8613800000002", name: "Han Meimei", channel: WEB}) { id } }`, undefined, token);
    const other = await tokenFor([Role.MEMBER], { kind: 'member', sub: '01JOTHERMEMBER000000000000' });
    const res = await gql(url, `query($id: ID!) { member(id: $id) { id points { balance } } }`, { id: reg.data.registerMember.id }, other);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
