/**
 * Reads of a member's points page, with autocannon:
 *   Member.points { balance expiringSoon(days: 30) { amount expiresAt } history(first: 20) { ... } }
 * for MEMBERS members with HISTORY ledger entries each (one lot per entry, expiring over the next
 * year, so `expiringSoon` has something to sum), every request for a random member with that
 * member's own token. Starts everything in this process on scratch databases and a scratch NATS
 * prefix (migrated, dropped afterwards):
 *   1. straight at the points subgraph: `_entities(representations: [{ __typename: "Member", id }])`;
 *   2. through a gateway (@apollo/gateway, as gateway/src/app.ts builds it) composed from the member and
 *      points subgraphs: `me { points { ... } }` (member resolves the member from the token, points the
 *      rest), unless GATEWAY=0. The members are registered through the member subgraph's
 *      `registerMember` and their points seeded in the points database.
 * The load generator shares the process (and the machine's cores) with the servers it measures.
 *
 *   npm run bench:points-read
 *   DURATION (seconds, default 10), CONNECTIONS (50), MEMBERS (200), HISTORY (100), WARMUP (2),
 *   GATEWAY (1; 0 = subgraph only), MYSQL_URL, NATS_URL
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon, { type Result } from 'autocannon';
import { parse } from 'graphql';
import { composeServices } from '@apollo/composition';
import { Bus, Role, createLogger, dropDatabase, loadConfig, newId, signToken } from '@membergraph/platform';
import { createApp as createPoints } from '../services/points/src/app';
import { createApp as createMember } from '../services/member/src/app';
import { expiryPolicyOf } from '../services/points/src/config';
import { expiryFor } from '../services/points/src/domain/expiry';
import { auditPoints } from '../services/points/src/services/points-audit.service';
import { createGateway } from '../gateway/src/app';
import { gatewayConfigSchema, REPO_ROOT } from '../gateway/src/config';
import { benchAppEnv, env, graphql, positiveInt, run } from './lib';

const SECRET = 'points-read-bench-secret-0123456789abcdef012345';
const ADMIN_PASSWORD = 'points-read-bench-admin';
const DAY = 86_400_000;
const POINTS_FIELDS = `points {
  balance
  expiringSoon(days: 30) { amount expiresAt }
  history(first: 20) { edges { cursor node { id type amount balanceAfter reason reference createdAt } } pageInfo { hasNextPage endCursor } }
}`;
const DIRECT = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { ${POINTS_FIELDS} } } }`;
const VIA_GATEWAY = `query { me { id ${POINTS_FIELDS} } }`;

interface Figures {
  name: string;
  perSecond: number;
  p50: number;
  p97_5: number;
  p99: number;
  max: number;
  total: number;
  failed: number;
}

/** `count` rows of `columns` in multi-row INSERTs of at most 1,000 rows. */
async function insertRows(query: (sql: string, params: unknown[]) => Promise<unknown>, table: string, columns: string[], rows: unknown[][]) {
  const one = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    await query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => one).join(', ')}`, chunk.flat());
  }
}

run(async () => {
  const duration = positiveInt('DURATION', 10);
  const connections = positiveInt('CONNECTIONS', 50);
  const memberCount = positiveInt('MEMBERS', 200);
  const history = positiveInt('HISTORY', 100);
  const warmup = positiveInt('WARMUP', 2, 0);
  const viaGateway = positiveInt('GATEWAY', 1, 0) > 0;
  const mysqlUrl = env('MYSQL_URL') ?? 'mysql://root@127.0.0.1:3306';
  const natsUrl = env('NATS_URL') ?? 'nats://127.0.0.1:4222';
  const id = randomBytes(4).toString('hex');
  const prefix = `bpr${id}.`;
  const databases = { points: `bench_pread_${id}_points`, member: `bench_pread_${id}_member` };
  const common = benchAppEnv({ mysqlUrl, natsUrl, prefix, secret: SECRET });
  // No welcome bonus and no background jobs: the ledger is exactly what the bench seeds.
  const points = createPoints({
    ...common,
    DB_NAME: databases.points,
    WELCOME_POINTS: '0',
    HOLD_SWEEP_INTERVAL_MS: '0',
    PENDING_RELEASE_INTERVAL_MS: '0',
    DAILY_JOBS_CHECK_INTERVAL_MS: '0',
  });
  const member = viaGateway ? createMember({ ...common, DB_NAME: databases.member, ADMIN_PASSWORD }) : null;
  let gateway: ReturnType<typeof createGateway> | undefined;
  try {
    await points.migrate();
    const pointsUrl = (await points.start()).url;
    let memberIds: string[];
    let memberUrl = '';
    if (member) {
      await member.migrate();
      memberUrl = (await member.start()).url;
      const login = await graphql<{ staffLogin: { token: string } }>(memberUrl, 'mutation($p: String!) { staffLogin(input: { username: "admin", password: $p }) { token } }', {
        p: ADMIN_PASSWORD,
      });
      console.log(`Registering ${memberCount} members through the member subgraph...`);
      memberIds = [];
      for (let i = 0; i < memberCount; i += 10) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(10, memberCount - i) }, (_, j) =>
            graphql<{ registerMember: { id: string } }>(
              memberUrl,
              'mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id } }',
              { input: { phone: `+86139${String(i + j).padStart(8, '0')}`, name: `Bench ${i + j}`, channel: 'STORE' } },
              login.staffLogin.token,
            ),
          ),
        );
        memberIds.push(...batch.map((b) => b.registerMember.id));
      }
    } else {
      memberIds = Array.from({ length: memberCount }, () => newId());
    }

    console.log(`Seeding ${history} ledger entries (and lots) for each of ${memberIds.length} members (points subgraph at ${pointsUrl}, database ${databases.points})...`);
    const { kit } = points;
    const policy = expiryPolicyOf(kit.config);
    const now = Date.now();
    const entries: unknown[][] = [];
    const lots: unknown[][] = [];
    const accounts: unknown[][] = [];
    for (const memberId of memberIds) {
      let balance = 0;
      for (let i = 0; i < history; i++) {
        // Oldest first, so the sortable ids follow time; earned over the last 360 days, so the lots
        // expire over the coming year and about one in twelve within 30 days.
        const earnedAt = new Date(now - Math.round(((history - i) * 360 * DAY) / history));
        const amount = 10 + ((i * 37) % 490);
        balance += amount;
        const entryId = newId();
        entries.push([entryId, memberId, 'EARN', amount, 0, balance, 'ORDER', `bench-order-${i}`, `bench:${memberId}:${i}`, earnedAt]);
        lots.push([newId(), memberId, entryId, amount, amount, earnedAt, expiryFor(earnedAt, policy)]);
      }
      accounts.push([memberId, balance, balance, 0, new Date(now)]);
    }
    const q = (sql: string, params: unknown[]) => kit.ds.query(sql, params);
    await insertRows(q, 'points_entry', ['id', 'member_id', 'type', 'amount', 'held', 'balance_after', 'reason', 'reference', 'idempotency_key', 'created_at'], entries);
    await insertRows(q, 'points_lot', ['id', 'member_id', 'entry_id', 'amount', 'remaining', 'earned_at', 'expires_at'], lots);
    await insertRows(q, 'points_account', ['member_id', 'balance', 'lifetime_earned', 'held', 'updated_at'], accounts);
    const audit = await auditPoints(kit.ds.manager);
    if (!audit.ok) throw new Error(`seeded ledger fails pointsAudit: ${JSON.stringify(audit.differences.slice(0, 3))}`);

    const tokens = await Promise.all(
      memberIds.map(async (sub) => (await signToken({ secret: SECRET, issuer: 'membergraph' }, { sub, kind: 'member', roles: [Role.MEMBER], scopes: [] }, 3600)).token),
    );
    const pick = () => Math.floor(Math.random() * memberIds.length);
    // A full page of history, and no GraphQL error, in every answer.
    const verifyBody = (body: string) => body.includes('"hasNextPage":true') && !body.includes('"errors"');

    const load = async (url: string, body: (i: number) => string, seconds: number): Promise<Result> =>
      autocannon({
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        connections,
        duration: seconds,
        requests: [
          {
            setupRequest: (req) => {
              const i = pick();
              return { ...req, headers: { ...req.headers, 'content-type': 'application/json', authorization: `Bearer ${tokens[i]}` }, body: body(i) };
            },
          },
        ],
        verifyBody,
      });
    const measure = async (name: string, url: string, body: (i: number) => string): Promise<Figures> => {
      // One request first: fail fast with the server's own message.
      const first = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[0]}` }, body: body(0) });
      const text = await first.text();
      if (!verifyBody(text)) throw new Error(`${name}: unexpected answer ${text.slice(0, 400)}`);
      if (warmup) await load(url, body, warmup);
      console.log(`${name}: ${connections} connections for ${duration}s...`);
      const r = await load(url, body, duration);
      const failed = r.errors + r.timeouts + r.non2xx + r.mismatches;
      return { name, perSecond: r.requests.average, p50: r.latency.p50, p97_5: r.latency.p97_5, p99: r.latency.p99, max: r.latency.max, total: r.requests.total, failed };
    };

    const results: Figures[] = [];
    results.push(await measure('points subgraph (_entities)', pointsUrl, (i) => JSON.stringify({ query: DIRECT, variables: { reps: [{ __typename: 'Member', id: memberIds[i] }] } })));

    if (member) {
      const sdl = (name: string) => parse(readFileSync(join(REPO_ROOT, 'services', name, 'schema.graphql'), 'utf8'));
      const composed = composeServices([
        { name: 'member', url: 'http://member.invalid:4001/graphql', typeDefs: sdl('member') },
        { name: 'points', url: 'http://points.invalid:4002/graphql', typeDefs: sdl('points') },
      ]);
      if (composed.errors) throw new Error(`composition failed: ${composed.errors.map((e) => e.message).join('; ')}`);
      const config = loadConfig(gatewayConfigSchema, { ...common, GATEWAY_PORT: '0', MEMBER_SUBGRAPH_URL: memberUrl, POINTS_SUBGRAPH_URL: pointsUrl });
      gateway = createGateway(config, { supergraphSdl: composed.supergraphSdl });
      const gatewayUrl = (await gateway.start()).url;
      results.push(await measure('gateway (me { points }) over member + points', gatewayUrl, () => JSON.stringify({ query: VIA_GATEWAY })));
    }

    const f = (x: number) => (Math.round(x * 10) / 10).toString();
    console.log('');
    console.log(`${memberIds.length} members x ${history} entries, ${connections} connections, ${duration}s each${warmup ? ` after a ${warmup}s warm-up` : ''}`);
    console.log('| path | requests/s | p50 ms | p97.5 ms | p99 ms | max ms | ok / failed |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of results) console.log(`| ${r.name} | ${f(r.perSecond)} | ${f(r.p50)} | ${f(r.p97_5)} | ${f(r.p99)} | ${f(r.max)} | ${r.total - r.failed} / ${r.failed} |`);
    console.log(`\nJSON ${JSON.stringify({ duration, connections, members: memberIds.length, history, results })}`);
    if (results.some((r) => r.failed)) process.exitCode = 1;
  } finally {
    // autocannon stops at its deadline with requests still in flight: let the servers answer them
    // before closing (otherwise the gateway logs its subgraph client closing under them).
    await new Promise((r) => setTimeout(r, 1_000));
    await gateway?.stop().catch(() => undefined);
    await member?.stop().catch(() => undefined);
    await points.stop().catch(() => undefined);
    for (const db of Object.values(databases)) await dropDatabase(mysqlUrl, db).catch(() => undefined);
    const bus = await Bus.connect({ url: natsUrl, prefix, name: 'bench-cleanup', log: createLogger('bench', 'silent') }).catch(() => null);
    if (bus) {
      await bus.deleteStreams().catch(() => undefined);
      await bus.close();
    }
  }
});
