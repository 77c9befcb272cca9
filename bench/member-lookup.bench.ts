/**
 * Lookup by phone through the gateway (`members(filter: {phone})`, the blind-index path) with
 * SEED members loaded, at 50 concurrent connections; each request asks for a random seeded phone.
 *
 *   ADMIN_USERNAME=admin ADMIN_PASSWORD=... npm run bench:lookup
 *   GATEWAY_URL (default http://127.0.0.1:4000/graphql), TOKEN,
 *   SEED (members to load first, default 100000), SKIP_SEED=1 (they are loaded already),
 *   PHONE_BASE (first seeded phone, default 13500000000: +86 135 0000 0000 upward),
 *   DURATION (default 15), CONNECTIONS (default 50), WARMUP (default 3)
 *
 * Seeding goes through `importMembers` (batches of 1,000, two in flight), so the members are real:
 * encrypted, blind-indexed, audited, announced. Seeding again with the same settings merges into
 * the same members instead of adding new ones. The query reads no PII (id, status, tier), so an
 * ADMIN token's lookups are not PII reads and write no audit rows.
 */
import autocannon from 'autocannon';
import { env, graphql, obtainToken, positiveInt, report, run } from './lib';

const QUERY = 'query($phone: String!) { members(filter: {phone: $phone}, first: 1) { edges { node { id status tier { code } } } } }';
const IMPORT = 'mutation($input: ImportMembersInput!) { importMembers(input: $input) { created merged rejected } }';
const BATCH = 1000;
const IN_FLIGHT = 2;

const phoneOf = (base: number, i: number) => `+86${base + i}`;

async function seed(url: string, token: string, count: number, base: number): Promise<void> {
  const started = Date.now();
  const totals = { created: 0, merged: 0, rejected: 0 };
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const from = next;
      const to = (next = Math.min(count, next + BATCH));
      const rows = [];
      for (let i = from; i < to; i++) rows.push({ phone: phoneOf(base, i), name: `Lookup ${i}`, email: i % 2 ? `l${base + i}@example.com` : null });
      const { importMembers: r } = await graphql<{ importMembers: typeof totals }>(url, IMPORT, { input: { rows } }, token);
      totals.created += r.created;
      totals.merged += r.merged;
      totals.rejected += r.rejected;
      if (to % 10_000 === 0 || to === count) process.stdout.write(`  ${to} / ${count}\r`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (Date.now() - started) / 1000;
  console.log(`Seeded ${count} members in ${seconds.toFixed(1)} s (${Math.round(count / seconds)}/s): ${JSON.stringify(totals)}`);
  if (totals.rejected) throw new Error(`${totals.rejected} seed rows were rejected`);
}

run(async () => {
  const url = env('GATEWAY_URL') ?? 'http://127.0.0.1:4000/graphql';
  const count = positiveInt('SEED', 100_000);
  const base = positiveInt('PHONE_BASE', 13_500_000_000);
  const duration = positiveInt('DURATION', 15);
  const connections = positiveInt('CONNECTIONS', 50);
  const warmup = positiveInt('WARMUP', 3, 0);
  const token = await obtainToken(url);
  if (!token) throw new Error('Set TOKEN or ADMIN_USERNAME + ADMIN_PASSWORD: importing and looking members up need a staff token');
  if (env('SKIP_SEED') !== '1') await seed(url, token, count, base);

  // Every seeded phone must be found: a lookup with no member counts as a GraphQL error.
  const body = () => JSON.stringify({ query: QUERY, variables: { phone: phoneOf(base, Math.floor(Math.random() * count)) } });
  console.log(`Looking up members by phone through ${url}: ${connections} connections, ${duration}s${warmup ? ` after a ${warmup}s warm-up` : ''}...`);
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    connections,
    duration,
    ...(warmup ? { warmup: { connections, duration: warmup } } : {}),
    requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
    verifyBody: (b) => !b.includes('"errors"') && b.includes('"node":{"id"'),
  });
  report(result, { url, connections, durationSeconds: duration, seededMembers: count });
});
