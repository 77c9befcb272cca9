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
import { env, graphql, obtainToken, positiveInt, report, run } from './lib';

const QUERY = `query($id: ID!) { member(id: $id) { id name points { balance } wallet { balance } coupons { code status } insights { orderCount totalSpend } } }`;

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

  report(result, { url, connections, durationSeconds: duration });
}

run(main);
