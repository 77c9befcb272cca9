/**
 * Lookup by phone through the gateway (`members(filter: {phone})`, the blind-index path) at
 * CONNECTIONS (50) concurrent connections; each request asks for a random seeded phone. Two ways:
 *
 *   SCRATCH_DB=bench_member_lookup SEED=1000000 npm run bench:lookup
 *     The bench owns everything. It migrates SCRATCH_DB and seeds it DIRECTLY up to SEED members
 *     (only the missing ones: the database is kept for the next run unless DROP=1), then starts a
 *     member service on it (its own process, NATS prefix and port) and a gateway in front of it
 *     (its own process), signs an ADMIN token with their JWT secret, measures and stops both.
 *     Seeded rows are what registration writes (`newMemberRow`: own data key, AES-256-GCM fields,
 *     blind indexes) in multi-row INSERTs of SEED_BATCH (2,000) rows, without audit entries and
 *     events: the lookup reads neither, and nothing consumes this prefix. It also reports the CPU
 *     the gateway, the member service and mysqld spent per lookup, InnoDB buffer-pool reads from
 *     disk per lookup, and with PROFILE=1 where the gateway's and the member's CPU goes (V8's
 *     sampling profiler through each process's inspector, over the measured window only; PROFILE_DIR
 *     keeps the .cpuprofile files). SEED_ONLY=1
 *     seeds and stops (e.g. SCRATCH_DB=membergraph_member before `npm start`, to run the platform
 *     with a million members); SERVE=1 seeds, starts both and prints GATEWAY_URL and an ADMIN TOKEN
 *     for other benches (registration, import) until Ctrl-C.
 *
 *   ADMIN_USERNAME=admin ADMIN_PASSWORD=... npm run bench:lookup
 *     Against a running platform (`npm start`) at GATEWAY_URL: SEED members (default 100,000) are
 *     first loaded through `importMembers` (batches of 1,000, two in flight; the same settings merge
 *     into the same members on a second run; SKIP_SEED=1 when they are there).
 *
 *   PHONE_BASE (first seeded phone, default 13500000000: +86 135 0000 0000 upward), DURATION (15),
 *   CONNECTIONS (50), WARMUP (3), MYSQL_URL, NATS_URL. Each connection sends its next request when
 *   the last one is answered (a closed loop), so latency is about CONNECTIONS / throughput once the
 *   machine is saturated; a run at a few connections shows the unqueued latency.
 *
 * The query reads no PII (id, status, tier), so an ADMIN token's lookups are not PII reads and
 * write no audit rows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import autocannon from 'autocannon';
import type { DataSource } from 'typeorm';
import { Bus, Role, createLogger, dropDatabase, newId, signToken } from '@membergraph/platform';
import { createApp } from '../services/member/src/app';
import { MemberEntity } from '../services/member/src/entities/member.entity';
import { TierEntity } from '../services/member/src/entities/tier.entity';
import { DEFAULT_TIER_LADDER, entryTier, type TierLevel } from '../services/member/src/domain/tiers';
import { PiiVault } from '../services/member/src/services/pii.service';
import { newMemberRow } from '../services/member/src/services/member-registry.service';
import { insertMany } from '@membergraph/platform';
import {
  env,
  graphql,
  loadAverage,
  mysqldPid,
  obtainToken,
  positiveInt,
  printCpuProfile,
  processCpuSeconds,
  report,
  run,
  startRemoteCpuProfile,
  type CpuProfileSummary,
} from './lib';

const QUERY = 'query($phone: String!) { members(filter: {phone: $phone}, first: 1) { edges { node { id status tier { code } } } } }';
const IMPORT = 'mutation($input: ImportMembersInput!) { importMembers(input: $input) { created merged rejected } }';
const BATCH = 1000;
const IN_FLIGHT = 2;
const GENDERS = ['FEMALE', 'MALE', 'OTHER', 'UNDISCLOSED'];

const phoneOf = (base: number, i: number) => `+86${base + i}`;

/** Loads members through importMembers on a running platform (encrypted, blind-indexed, audited, announced). */
async function seedThroughImport(url: string, token: string, count: number, base: number): Promise<void> {
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

/**
 * Writes members `have`..`count - 1` straight into the member table, sealed as registration seals
 * them, in multi-row INSERTs; the next batch is encrypted while the previous one is being inserted.
 */
async function seedDirectly(ds: DataSource, vault: PiiVault, count: number, base: number, batch: number): Promise<void> {
  const members = Number((await ds.query('SELECT COUNT(*) AS n FROM member'))[0].n);
  // Resumes where an earlier run stopped; other benches may have added members of their own since.
  const seeded = async (i: number) => ds.getRepository(MemberEntity).existsBy({ phoneIndex: vault.phoneIndex(phoneOf(base, i)) });
  const have = members >= count && (await seeded(count - 1)) ? count : members;
  if (have && !(await seeded(have - 1))) throw new Error(`the database holds ${members} members, not phones ${phoneOf(base, 0)} upward: use DROP=1 or another SCRATCH_DB`);
  if (have >= count) return console.log(`${members} members in the table, the ${count} seeded ones included.`);
  const ladder: TierLevel[] = await ds.getRepository(TierEntity).find();
  const tierCode = entryTier(ladder.length ? ladder : DEFAULT_TIER_LADDER).code;
  console.log(`Seeding members ${have} to ${count - 1} directly (batches of ${batch}), load average ${loadAverage()}...`);
  const started = Date.now();
  let inserting: Promise<void> = Promise.resolve();
  for (let from = have; from < count; from += batch) {
    const registeredAt = new Date();
    const rows = [];
    for (let i = from; i < Math.min(count, from + batch); i++) {
      const birthday = i % 5 ? `${1950 + (i % 55)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}` : null;
      rows.push(
        newMemberRow(vault, {
          id: newId(),
          pii: { phone: phoneOf(base, i), name: `Lookup ${i}`, email: i % 2 ? `l${base + i}@example.com` : null, birthday, gender: GENDERS[i % 4] },
          channel: 'IMPORT',
          tierCode,
          registeredAt,
          registeredBy: 'bench:lookup-seed',
          referralCode: null,
        }),
      );
    }
    await inserting;
    inserting = insertMany(ds.manager, MemberEntity, rows);
    const done = Math.min(count, from + batch);
    if (done % 50_000 < batch || done === count) {
      const s = (Date.now() - started) / 1000;
      process.stdout.write(`  ${done} / ${count} (${Math.round((done - have) / s)}/s, load average ${loadAverage()})\n`);
    }
  }
  await inserting;
  const seconds = (Date.now() - started) / 1000;
  console.log(`Seeded ${count - have} members in ${seconds.toFixed(1)} s (${Math.round((count - have) / seconds)}/s).`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a TypeScript entry point in its own node process (as `npm start` does), with an inspector on `inspectPort` to profile it. */
function startProcess(name: string, entry: string, env: Record<string, string>, inspectPort?: number): ChildProcess {
  const args = [...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : []), '--import', 'tsx', entry];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  child.once('exit', (code, signal) => {
    if (code && !stopping) console.error(`${name} exited (${signal ?? code})`);
  });
  return child;
}
let stopping = false;

async function waitReady(name: string, child: ChildProcess, url: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited before it was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} was not ready within 90 s (${url})`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function bufferPool(ds: DataSource): Promise<{ reads: number; requests: number }> {
  const rows: Array<{ Variable_name: string; Value: string }> = await ds.query(
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_buffer_pool_reads', 'Innodb_buffer_pool_read_requests')",
  );
  const v = Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
  return { reads: v.Innodb_buffer_pool_reads ?? 0, requests: v.Innodb_buffer_pool_read_requests ?? 0 };
}

function lookups(url: string, token: string, phones: () => string, o: { connections: number; duration: number; warmup: number }) {
  const body = () => JSON.stringify({ query: QUERY, variables: { phone: phones() } });
  return autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    connections: o.connections,
    duration: o.duration,
    ...(o.warmup ? { warmup: { connections: o.connections, duration: o.warmup } } : {}),
    requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
    // Every seeded phone must be found: a lookup with no member counts as a GraphQL error.
    verifyBody: (b) => !b.includes('"errors"') && b.includes('"node":{"id"'),
  });
}

run(async () => {
  const count = positiveInt('SEED', 100_000);
  const base = positiveInt('PHONE_BASE', 13_500_000_000);
  const o = { duration: positiveInt('DURATION', 15), connections: positiveInt('CONNECTIONS', 50), warmup: positiveInt('WARMUP', 3, 0) };
  const randomPhone = () => phoneOf(base, Math.floor(Math.random() * count));
  const scratch = env('SCRATCH_DB');

  if (!scratch) {
    const url = env('GATEWAY_URL') ?? 'http://127.0.0.1:4000/graphql';
    const token = await obtainToken(url);
    if (!token) throw new Error('Set TOKEN or ADMIN_USERNAME + ADMIN_PASSWORD: importing and looking members up need a staff token');
    if (env('SKIP_SEED') !== '1') await seedThroughImport(url, token, count, base);
    console.log(`Looking up members by phone through ${url}: ${o.connections} connections, ${o.duration}s${o.warmup ? ` after a ${o.warmup}s warm-up` : ''}...`);
    report(await lookups(url, token, randomPhone, o), { url, connections: o.connections, durationSeconds: o.duration, seededMembers: count });
    return;
  }

  const id = randomBytes(4).toString('hex');
  const serviceEnv = {
    NODE_ENV: 'development',
    LOG_LEVEL: env('LOG_LEVEL') ?? 'warn',
    HOST: '127.0.0.1',
    MYSQL_URL: env('MYSQL_URL') ?? 'mysql://root@127.0.0.1:3306',
    NATS_URL: env('NATS_URL') ?? 'nats://127.0.0.1:4222',
    NATS_PREFIX: `blk${id}.`,
    DB_NAME: scratch,
    JWT_SECRET: `lookup-bench-${randomBytes(16).toString('hex')}`,
    JOB_CHECK_INTERVAL_MS: '0',
  };
  const app = createApp(serviceEnv);
  const profile = env('PROFILE') === '1';
  const children: ChildProcess[] = [];
  try {
    await app.migrate();
    const { kit } = app;
    await seedDirectly(kit.ds, new PiiVault(kit.config.PII_MASTER_KEY, kit.config.PII_INDEX_KEY), count, base, positiveInt('SEED_BATCH', 2000));
    if (env('SEED_ONLY') === '1') return;
    const [memberPort, gatewayPort] = [await freePort(), await freePort()];
    const inspect = profile ? { member: await freePort(), gateway: await freePort() } : undefined;
    const member = startProcess('member', 'services/member/src/main.ts', { ...serviceEnv, PORT: String(memberPort) }, inspect?.member);
    children.push(member);
    await waitReady('member', member, `http://127.0.0.1:${memberPort}/readyz`);
    // Only member is reachable: the other subgraphs' URLs are never called by this query.
    const gateway = startProcess('gateway', 'gateway/src/main.ts', { ...serviceEnv, GATEWAY_PORT: String(gatewayPort), MEMBER_SUBGRAPH_URL: `http://127.0.0.1:${memberPort}/graphql` }, inspect?.gateway);
    children.push(gateway);
    await waitReady('gateway', gateway, `http://127.0.0.1:${gatewayPort}/readyz`);
    const url = `http://127.0.0.1:${gatewayPort}/graphql`;
    const { token } = await signToken({ secret: serviceEnv.JWT_SECRET, issuer: kit.config.JWT_ISSUER }, { sub: 'lookup-bench', kind: 'staff', roles: [Role.ADMIN], scopes: [] }, 3600);
    if (env('SERVE') === '1') {
      console.log(`Serving until Ctrl-C (member at http://127.0.0.1:${memberPort}/graphql):\nGATEWAY_URL=${url} TOKEN=${token}`);
      await new Promise((resolve) => ['SIGINT', 'SIGTERM'].forEach((signal) => process.once(signal, resolve)));
      return;
    }

    console.log(`Looking up ${count} members by phone through ${url}: ${o.connections} connections, ${o.duration}s${o.warmup ? ` after a ${o.warmup}s warm-up` : ''}, load average ${loadAverage()}...`);
    const cpu = () => ({ gateway: processCpuSeconds(String(gateway.pid)), member: processCpuSeconds(String(member.pid)), mysqld: processCpuSeconds(mysqldPid()) });
    // Counters (and profiles) from the end of the warm-up: autocannon runs it first, then measures.
    let c0 = cpu();
    let b0 = await bufferPool(kit.ds);
    let profiles: Promise<Array<{ stop(file?: string): Promise<CpuProfileSummary> }>> | undefined;
    const startMeasuring = () => {
      c0 = cpu();
      void bufferPool(kit.ds).then((b) => (b0 = b));
      if (inspect) profiles = Promise.all([startRemoteCpuProfile(inspect.gateway), startRemoteCpuProfile(inspect.member)]);
    };
    const warmupDone = o.warmup ? setTimeout(startMeasuring, o.warmup * 1000) : undefined;
    if (!o.warmup) startMeasuring();
    const load0 = loadAverage();
    const result = await lookups(url, token, randomPhone, o);
    clearTimeout(warmupDone);
    const dir = env('PROFILE_DIR');
    const summaries = profiles ? await Promise.all((await profiles).map((p, i) => p.stop(dir ? `${dir}/lookup-${i ? 'member' : 'gateway'}.cpuprofile` : undefined))) : undefined;
    const [c1, b1] = [cpu(), await bufferPool(kit.ds)];
    const n = Math.max(1, result.requests.total);
    const perLookup = (a: number | null, b: number | null) => (a === null || b === null ? null : Math.round(((b - a) * 1e6) / n) / 1000);
    const extra = {
      url,
      connections: o.connections,
      durationSeconds: o.duration,
      members: count,
      cpuMsPerLookup: { gateway: perLookup(c0.gateway, c1.gateway), member: perLookup(c0.member, c1.member), mysqld: perLookup(c0.mysqld, c1.mysqld) },
      diskReadsPerLookup: Math.round(((b1.reads - b0.reads) / n) * 100) / 100,
      bufferPoolHitRate: Math.round((1 - (b1.reads - b0.reads) / Math.max(1, b1.requests - b0.requests)) * 10000) / 100,
      loadAverage: [load0, loadAverage()],
    };
    console.log(`CPU per lookup (ms): ${JSON.stringify(extra.cpuMsPerLookup)}; InnoDB reads from disk per lookup: ${extra.diskReadsPerLookup} (buffer pool hit rate ${extra.bufferPoolHitRate}%); load average ${load0} -> ${loadAverage()}`);
    report(result, extra);

    if (summaries) {
      printCpuProfile('gateway', summaries[0]!, n, positiveInt('TOP', 20));
      printCpuProfile('member', summaries[1]!, n, positiveInt('TOP', 20));
    }
  } finally {
    stopping = true;
    for (const child of [...children].reverse()) await stopProcess(child);
    await app.stop().catch(() => undefined);
    if (env('DROP') === '1') await dropDatabase(serviceEnv.MYSQL_URL, scratch).catch(() => undefined);
    const bus = await Bus.connect({ url: serviceEnv.NATS_URL, prefix: serviceEnv.NATS_PREFIX, name: 'bench-cleanup', log: createLogger('bench', 'silent') }).catch(() => null);
    if (bus) {
      await bus.deleteStreams().catch(() => undefined);
      await bus.close();
    }
  }
});
