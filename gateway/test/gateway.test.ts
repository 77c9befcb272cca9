/**
 * The gateway against two tiny real subgraphs (@apollo/subgraph on the platform HTTP kit), with a
 * supergraph composed here from their toy schemas. The supergraph names unreachable k8s URLs, so
 * every passing request also proves the `<NAME>_SUBGRAPH_URL` overrides.
 */
import type { Server } from 'node:http';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { principalFromHeader, signToken, type Principal } from '@membergraph/platform/auth';
import { loadConfig } from '@membergraph/platform/config';
import { conflict, forbidden, notFound } from '@membergraph/platform/errors';
import { createErrorFormatter } from '@membergraph/platform/graphql/format-error';
import { close, createHttpServer, listen } from '@membergraph/platform/graphql/http';
import { createLogger } from '@membergraph/platform/telemetry';
import { createGateway, type Gateway } from '../src/app';
import { gatewayConfigSchema } from '../src/config';

const tokens = { secret: 'gateway-test-secret-0123456789-abcdefghij', issuer: 'membergraph-test' };
const staff: Principal = { sub: 'staff-1', kind: 'staff', roles: ['ADMIN'], scopes: [] };
const log = createLogger('gateway-test', 'silent');

const memberTypeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query {
    member(id: ID!): Member
  }
  type Mutation {
    registerMember(phone: String!): Member!
  }
  type Member @key(fields: "id") {
    id: ID!
    name: String!
    friends: [Member!]!
  }
`);
const pointsTypeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Member @key(fields: "id") {
    id: ID!
    points: Int!
  }
`);

interface Seen {
  subgraph: string;
  headers: Record<string, string | undefined>;
}
const seen: Seen[] = [];

const member = (id: string) => {
  if (id === 'missing') throw notFound('Member');
  if (id === 'crash') throw new Error('ER_ACCESS_DENIED_ERROR: password for root@db-7 is hunter2');
  return { id, name: `Name ${id}` };
};

async function startSubgraph(name: string, schema: ReturnType<typeof buildSubgraphSchema>): Promise<{ server: Server; url: string }> {
  const apollo = new ApolloServer({
    schema,
    formatError: createErrorFormatter(log),
    logger: log,
    plugins: [ApolloServerPluginInlineTraceDisabled()],
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  const server = createHttpServer({
    apollo,
    log,
    context: async (req) => {
      seen.push({
        subgraph: name,
        headers: {
          authorization: req.headers.authorization,
          traceparent: req.headers.traceparent as string | undefined,
          tracestate: req.headers.tracestate as string | undefined,
          'x-request-id': req.headers['x-request-id'] as string | undefined,
          'x-forwarded-for': req.headers['x-forwarded-for'] as string | undefined,
        },
      });
      // Subgraphs verify the token again; a "revoked" subject is refused here, as a non-2xx answer.
      const principal = await principalFromHeader(tokens, req.headers.authorization);
      if (principal?.sub === 'revoked') {
        throw new GraphQLError('Token revoked', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
      }
      return { principal };
    },
  });
  server.on('close', () => void apollo.stop());
  const port = await listen(server, 0, '127.0.0.1');
  return { server, url: `http://127.0.0.1:${port}/graphql` };
}

describe('gateway', () => {
  const servers: Server[] = [];
  let gateway: Gateway;
  let url: string;
  let base: string;

  beforeAll(async () => {
    const memberSchema = buildSubgraphSchema({
      typeDefs: memberTypeDefs,
      resolvers: {
        Query: { member: (_: unknown, { id }: { id: string }) => member(id) },
        Mutation: {
          registerMember: (_: unknown, { phone }: { phone: string }) => {
            throw conflict(`Phone ${phone} is already registered`, { field: 'phone' });
          },
        },
        Member: {
          __resolveReference: ({ id }: { id: string }) => member(id),
          friends: ({ id }: { id: string }) => [member(`${id}-friend`)],
        },
      },
    });
    const pointsSchema = buildSubgraphSchema({
      typeDefs: pointsTypeDefs,
      resolvers: {
        Member: {
          points: ({ id }: { id: string }) => {
            if (id === 'secret') throw forbidden('You may not see these points');
            return 42;
          },
        },
      },
    });
    const [m, p] = await Promise.all([startSubgraph('member', memberSchema), startSubgraph('points', pointsSchema)]);
    servers.push(m.server, p.server);

    const composed = composeServices([
      { name: 'member', url: 'http://member.invalid:4001/graphql', typeDefs: memberTypeDefs },
      { name: 'points', url: 'http://points.invalid:4002/graphql', typeDefs: pointsTypeDefs },
    ]);
    if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));

    const config = loadConfig(gatewayConfigSchema, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      JWT_SECRET: tokens.secret,
      JWT_ISSUER: tokens.issuer,
      MEMBER_SUBGRAPH_URL: m.url,
      POINTS_SUBGRAPH_URL: p.url,
      MAX_QUERY_DEPTH: '4',
      MAX_QUERY_ALIASES: '3',
    });
    gateway = createGateway(config, { supergraphSdl: composed.supergraphSdl, log });
    ({ url } = await gateway.start());
    base = url.replace(/\/graphql$/, '');
  });

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all(servers.map((s) => close(s)));
  });

  beforeEach(() => {
    seen.length = 0;
  });

  async function gql(query: string, opts: { variables?: object; headers?: Record<string, string> } = {}) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...opts.headers },
      body: JSON.stringify({ query, variables: opts.variables }),
    });
    const body = (await res.json()) as {
      data?: Record<string, unknown> | null;
      errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }>;
    };
    return { status: res.status, headers: res.headers, body };
  }
  const bearer = async (principal: Principal = staff, ttl = 300) => `Bearer ${(await signToken(tokens, principal, ttl)).token}`;

  it('forwards Authorization, traceparent/tracestate, x-request-id and x-forwarded-for to every subgraph it calls', async () => {
    const authorization = await bearer();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { status, headers, body } = await gql('{ member(id: "m1") { id name points } }', {
      headers: { authorization, traceparent, tracestate: 'vendor=1', 'x-request-id': 'req-123', 'x-forwarded-for': '203.0.113.7' },
    });
    expect(status).toBe(200);
    expect(body).toEqual({ data: { member: { id: 'm1', name: 'Name m1', points: 42 } } });
    expect(headers.get('x-request-id')).toBe('req-123');
    expect(seen.map((s) => s.subgraph).sort()).toEqual(['member', 'points']);
    for (const s of seen) {
      expect(s.headers).toEqual({
        authorization,
        traceparent,
        tracestate: 'vendor=1',
        'x-request-id': 'req-123',
        'x-forwarded-for': '203.0.113.7, 127.0.0.1',
      });
    }
  });

  it('generates one x-request-id per request when none (or a malformed one) is given, and stays anonymous without a token', async () => {
    const { body, headers } = await gql('{ member(id: "m2") { id points } }', { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(body.errors).toBeUndefined();
    const id = headers.get('x-request-id');
    expect(id).toMatch(/^[A-Za-z0-9._:-]{10,}$/);
    expect(seen).toHaveLength(2);
    for (const s of seen) {
      expect(s.headers).toEqual({
        authorization: undefined,
        traceparent: undefined,
        tracestate: undefined,
        'x-request-id': id,
        'x-forwarded-for': '127.0.0.1',
      });
    }
  });

  it('refuses a forged or expired token with UNAUTHENTICATED before calling any subgraph', async () => {
    const good = await bearer();
    const forged = `${good.slice(0, -4)}AAAA`;
    for (const authorization of [forged, await bearer(staff, -60), 'Basic dXNlcjpwYXNz']) {
      const { status, body } = await gql('{ member(id: "m1") { id } }', { headers: { authorization } });
      expect(status).toBe(401);
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(body.data).toBeUndefined();
    }
    const wrongIssuer = `Bearer ${(await signToken({ ...tokens, issuer: 'someone-else' }, staff, 300)).token}`;
    const { body } = await gql('{ __typename }', { headers: { authorization: wrongIssuer } });
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(seen).toEqual([]);
  });

  it("passes a subgraph error's message and extensions.code through to the client", async () => {
    const authorization = await bearer();
    const notFoundRes = await gql('{ member(id: "missing") { id } }', { headers: { authorization } });
    expect(notFoundRes.body.data).toEqual({ member: null });
    expect(notFoundRes.body.errors?.[0]).toMatchObject({ message: 'Member not found', path: ['member'], extensions: { code: 'NOT_FOUND' } });

    const conflictRes = await gql('mutation { registerMember(phone: "+8613800000001") { id } }', { headers: { authorization } });
    expect(conflictRes.body.errors?.[0]).toMatchObject({
      message: 'Phone +8613800000001 is already registered',
      extensions: { code: 'CONFLICT', field: 'phone' },
    });

    // From an entity fetch (_entities on the points subgraph), with the client's path.
    const forbiddenRes = await gql('{ member(id: "secret") { id points } }', { headers: { authorization } });
    expect(forbiddenRes.body.errors?.[0]).toMatchObject({ message: 'You may not see these points', extensions: { code: 'FORBIDDEN' } });
    expect(forbiddenRes.body.errors?.[0]?.path).toEqual(['member', 'points']);
    expect(forbiddenRes.body.errors?.[0]?.extensions).not.toHaveProperty('stacktrace');

    // A subgraph refusing the request as a whole (HTTP 401 with a GraphQL body).
    const revoked = await gql('{ member(id: "m1") { id } }', { headers: { authorization: await bearer({ ...staff, sub: 'revoked' }) } });
    expect(revoked.body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', serviceName: 'member' });
    // Under vitest the subgraph's Apollo Server loads graphql's CJS build while this file gets the ESM one, so
    // its `instanceof GraphQLError` fails and it prefixes "Context creation failed: " (not the case under tsx/node).
    expect(revoked.body.errors?.[0]?.message).toMatch(/Token revoked$/);
    expect(JSON.stringify(revoked.body)).not.toContain('"body"');
  });

  it('hides unexpected subgraph failures', async () => {
    const { body } = await gql('{ member(id: "crash") { id } }', { headers: { authorization: await bearer() } });
    expect(body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(body)).not.toContain('hunter2');
  });

  it('refuses a too-deep query and too many aliases before calling any subgraph', async () => {
    const deep = await gql('{ member(id: "m1") { friends { friends { friends { id } } } } }');
    expect(deep.status).toBe(400);
    expect(deep.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(deep.body.errors?.[0]?.message).toMatch(/nested 5 levels deep; the maximum is 4/);

    // Depth through fragments counts too.
    const viaFragments = await gql(`
      query Deep { member(id: "m1") { ...F } }
      fragment F on Member { friends { ...G } }
      fragment G on Member { friends { friends { id } } }
    `);
    expect(viaFragments.body.errors?.[0]?.message).toMatch(/Operation "Deep" is nested 5 levels deep/);

    const ok = await gql('{ member(id: "m1") { friends { friends { id __typename } } } }');
    expect(ok.body.errors).toBeUndefined();

    const aliases = await gql('{ a: member(id: "1") { id } b: member(id: "2") { id } c: member(id: "3") { id } d: member(id: "4") { id } }');
    expect(aliases.status).toBe(400);
    expect(aliases.body.errors?.[0]?.message).toMatch(/uses 4 aliases; the maximum is 3/);
    expect(seen.filter((s) => s.subgraph === 'member')).toHaveLength(1); // only the `ok` query reached it
  });

  it('serves /healthz, /readyz and /metrics', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).text()).toBe('ready');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/graphql_request_duration_seconds_count\{[^}]*service="gateway"/);
  });
});
