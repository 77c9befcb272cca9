/**
 * Load test of the gateway with one cross-subgraph member query (member + points + wallet +
 * marketing + analytics), with autocannon.
 *
 *   npm run bench                                   # everything from the environment:
 *   GATEWAY_URL   default http://127.0.0.1:4000/graphql
 *   TOKEN         a bearer token; otherwise ADMIN_USERNAME / ADMIN_PASSWORD log in with staffLogin
 *   MEMBER_ID     the member to query; otherwise one is registered with registerMember
 *   DURATION      seconds, default 15          CONNECTIONS   default 32
 *   WARMUP        seconds at the same concurrency before measuring, default 3 (0 = none)
 *
 * GraphQL-level failures (HTTP 200 with `errors`) are counted separately from HTTP errors.
 */
import autocannon from 'autocannon';

const QUERY = `query($id: ID!) { member(id: $id) { id name points { balance } wallet { balance } coupons { code status } insights { orderCount totalSpend } } }`;

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function positiveInt(name: string, fallback: number, min = 1): number {
  const raw = env(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min} (got "${raw}")`);
  return n;
}

async function graphql<T>(url: string, query: string, variables: object, token?: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: GraphQLResponse<T>;
  try {
    body = JSON.parse(text) as GraphQLResponse<T>;
  } catch {
    throw new Error(`HTTP ${res.status} from ${url}: ${text.slice(0, 300)}`);
  }
  if (body.errors?.length || !body.data) {
    const detail = (body.errors ?? []).map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; ');
    throw new Error(`GraphQL request failed (HTTP ${res.status}): ${detail || 'no data'}`);
  }
  return body.data;
}

async function obtainToken(url: string): Promise<string | undefined> {
  const token = env('TOKEN');
  if (token) return token;
  const username = env('ADMIN_USERNAME');
  const password = env('ADMIN_PASSWORD');
  if (!username || !password) return undefined;
  const data = await graphql<{ staffLogin: { token: string } }>(
    url,
    'mutation($input: StaffLoginInput!) { staffLogin(input: $input) { token } }',
    { input: { username, password } },
  );
  console.log(`Logged in as ${username}.`);
  return data.staffLogin.token;
}

async function obtainMemberId(url: string, token: string | undefined): Promise<string> {
  const given = env('MEMBER_ID');
  if (given) return given;
  if (!token) throw new Error('Set MEMBER_ID, or TOKEN / ADMIN_USERNAME+ADMIN_PASSWORD so a member can be registered');
  const phone = `+86139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const data = await graphql<{ registerMember: { id: string } }>(
    url,
    'mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id } }',
    { input: { phone, name: 'Bench Member', channel: 'STORE' } },
    token,
  );
  console.log(`Registered member ${data.registerMember.id} (${phone}).`);
  return data.registerMember.id;
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

async function main() {
  const url = env('GATEWAY_URL') ?? 'http://127.0.0.1:4000/graphql';
  const duration = positiveInt('DURATION', 15);
  const connections = positiveInt('CONNECTIONS', 32);
  const warmup = positiveInt('WARMUP', 3, 0);

  const token = await obtainToken(url);
  const memberId = await obtainMemberId(url, token);
  // One request first: fail fast with the server's own message if the query does not work.
  await graphql(url, QUERY, { id: memberId }, token);

  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  console.log(`Benchmarking ${url}: ${connections} connections, ${duration}s${warmup ? ` after a ${warmup}s warm-up` : ''}...`);

  const result = await autocannon({
    url,
    method: 'POST',
    headers,
    body: JSON.stringify({ query: QUERY, variables: { id: memberId } }),
    connections,
    duration,
    ...(warmup ? { warmup: { connections, duration: warmup } } : {}),
    verifyBody: (body) => !body.includes('"errors"'),
  });

  const summary = {
    url,
    connections,
    durationSeconds: duration,
    requestsPerSecond: Math.round(result.requests.average * 10) / 10,
    requests: result.requests.total,
    latencyMs: { p50: result.latency.p50, p97_5: result.latency.p97_5, p99: result.latency.p99, avg: result.latency.average, max: result.latency.max },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    graphqlErrors: result.mismatches,
  };
  console.log('');
  console.log(`requests/s     ${summary.requestsPerSecond} (total ${summary.requests})`);
  console.log(`latency p50    ${ms(result.latency.p50)}`);
  console.log(`latency p97.5  ${ms(result.latency.p97_5)}`);
  console.log(`latency p99    ${ms(result.latency.p99)}`);
  console.log(`errors         ${result.errors} (timeouts ${result.timeouts})`);
  console.log(`non-2xx        ${result.non2xx}`);
  console.log(`graphql errors ${result.mismatches} (HTTP 200 responses with "errors")`);
  console.log(`\nJSON ${JSON.stringify(summary)}`);
  if (result.errors || result.non2xx || result.mismatches) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
