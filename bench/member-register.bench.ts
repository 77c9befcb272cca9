/**
 * Registration throughput through the gateway: every request registers a new member with a
 * fresh phone number (staff registration: encryption, blind index, audit row and outbox event in
 * one transaction; points, wallet, marketing and analytics then consume the event).
 *
 *   ADMIN_USERNAME=admin ADMIN_PASSWORD=... npm run bench:register
 *   GATEWAY_URL, TOKEN, DURATION (default 15), CONNECTIONS (default 32), WARMUP (default 3)
 */
import autocannon from 'autocannon';
import { env, obtainToken, positiveInt, report, run } from './lib';

const MUTATION = 'mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id } }';

run(async () => {
  const url = env('GATEWAY_URL') ?? 'http://127.0.0.1:4000/graphql';
  const duration = positiveInt('DURATION', 15);
  const connections = positiveInt('CONNECTIONS', 32);
  const warmup = positiveInt('WARMUP', 3, 0);
  const token = await obtainToken(url);
  if (!token) throw new Error('Set TOKEN or ADMIN_USERNAME + ADMIN_PASSWORD: registering by staff needs a staff token');

  // Phones from a random block of a million numbers in +86 137..., unique within a run.
  const base = 13_700_000_000 + Math.floor(Math.random() * 100) * 1_000_000;
  let n = 0;
  const body = () =>
    JSON.stringify({ query: MUTATION, variables: { input: { phone: `+86${base + n++}`, name: 'Bench Member', channel: 'STORE' } } });

  console.log(`Registering through ${url}: ${connections} connections, ${duration}s${warmup ? ` after a ${warmup}s warm-up` : ''}...`);
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    connections,
    duration,
    ...(warmup ? { warmup: { connections, duration: warmup } } : {}),
    requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
    verifyBody: (b) => !b.includes('"errors"'),
  });
  report(result, { url, connections, durationSeconds: duration, registrations: n });
});
