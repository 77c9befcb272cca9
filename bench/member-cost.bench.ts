/**
 * Where the time of a registration, an imported row and a lookup by phone goes, at the member
 * subgraph itself (no gateway, no consumers). Starts its own member app in this process on a
 * scratch database and NATS prefix (both removed afterwards); the load comes from a forked client
 * process, so its CPU is not counted. For each phase it prints, per operation:
 *   - SQL statements by kind, counted through TypeORM's logger (transaction control and the
 *     outbox relay's statements included; the phase ends when the outbox is drained), and the
 *     wall time of those over 1 ms,
 *   - this process's CPU, mysqld's and nats-server's CPU (from /proc; other sessions' work on the
 *     shared MariaDB counts too, hence the load average beside it),
 *   - with PROFILE=1, this process's self time by package (V8's sampling profiler).
 *
 *   npx tsx bench/member-cost.bench.ts
 *   REGISTER_SECONDS (10), CONNECTIONS (16), IMPORT_ROWS (10000), BATCH (1000), IN_FLIGHT (2),
 *   LOOKUP_SECONDS (5), PROFILE=1 (PROFILE_DIR keeps the .cpuprofile files), MYSQL_URL, NATS_URL,
 *   MEMBER_DB (an existing member database, e.g. one with a million members, instead of a scratch one;
 *   kept afterwards; no other member service may run on it meanwhile, its relay would share the outbox)
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import mysql from 'mysql2/promise';
import { Bus, Role, createLogger, dropDatabase, signToken } from '@membergraph/platform';
import { createApp } from '../services/member/src/app';
import { benchAppEnv, env, graphql, loadAverage, pidOf, positiveInt, printCpuProfile, processCpuSeconds, run, startCpuProfile, timeStatements } from './lib';

const REGISTER = 'mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id } }';
const IMPORT = 'mutation($input: ImportMembersInput!) { importMembers(input: $input) { created merged rejected } }';
const LOOKUP = 'query($phone: String!) { members(filter: {phone: $phone}, first: 1) { edges { node { id status tier { code } } } } }';
const SECRET = 'member-cost-bench-secret-0123456789abcdef';

type Job =
  | { kind: 'register'; url: string; token: string; seconds: number; connections: number; phoneBase: number }
  | { kind: 'import'; url: string; token: string; rows: number; batch: number; inFlight: number; phoneBase: number }
  | { kind: 'lookup'; url: string; token: string; seconds: number; connections: number; phoneBase: number; phones: number };

interface JobResult {
  ops: number;
  failed: number;
  seconds: number;
  p50?: number;
  p99?: number;
}

/** The load generator, in its own process. */
async function client(job: Job): Promise<JobResult> {
  const started = Date.now();
  if (job.kind === 'import') {
    let next = 0;
    let failed = 0;
    const worker = async () => {
      while (next < job.rows) {
        const from = next;
        const to = (next = Math.min(job.rows, next + job.batch));
        const rows = [];
        for (let i = from; i < to; i++) {
          const phone = job.phoneBase + i;
          rows.push({ phone: `+86${phone}`, name: `Member ${i}`, email: i % 3 ? `c${phone}@example.com` : '', birthday: i % 5 ? `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}` : '', gender: 'FEMALE' });
        }
        const { importMembers: r } = await graphql<{ importMembers: { created: number; rejected: number } }>(job.url, IMPORT, { input: { rows } }, job.token);
        failed += r.rejected;
      }
    };
    await Promise.all(Array.from({ length: job.inFlight }, worker));
    return { ops: job.rows - failed, failed, seconds: (Date.now() - started) / 1000 };
  }
  let n = 0;
  const body =
    job.kind === 'register'
      ? () => JSON.stringify({ query: REGISTER, variables: { input: { phone: `+86${job.phoneBase + n++}`, name: 'Cost Bench', channel: 'STORE' } } })
      : () => JSON.stringify({ query: LOOKUP, variables: { phone: `+86${job.phoneBase + Math.floor(Math.random() * job.phones)}` } });
  const result = await autocannon({
    url: job.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${job.token}` },
    connections: job.connections,
    duration: job.seconds,
    requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
    verifyBody: (b) => !b.includes('"errors"') && (job.kind === 'register' || b.includes('"node":{"id"')),
  });
  const failed = result.errors + result.timeouts + result.non2xx + result.mismatches;
  return { ops: result.requests.total - result.non2xx - result.mismatches, failed, seconds: job.seconds, p50: result.latency.p50, p99: result.latency.p99 };
}

if (process.argv[2] === '--client') {
  process.once('message', (job: Job) => {
    client(job).then(
      (r) => process.send!(r, () => process.exit(0)),
      (err: unknown) => {
        console.error(`client failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  });
} else {
  run(main);
}

async function main(): Promise<void> {
  const registerSeconds = positiveInt('REGISTER_SECONDS', 10, 0);
  const connections = positiveInt('CONNECTIONS', 16);
  const importRows = positiveInt('IMPORT_ROWS', 10_000, 0);
  const batch = positiveInt('BATCH', 1000);
  const inFlight = positiveInt('IN_FLIGHT', 2);
  const lookupSeconds = positiveInt('LOOKUP_SECONDS', 5, 0);
  const profile = env('PROFILE') === '1';
  const mysqlUrl = env('MYSQL_URL') ?? 'mysql://root@127.0.0.1:3306';
  const natsUrl = env('NATS_URL') ?? 'nats://127.0.0.1:4222';
  const id = randomBytes(4).toString('hex');
  // MEMBER_DB: an existing (large) member database to measure against; kept afterwards.
  const database = env('MEMBER_DB') ?? `bench_member_${id}`;
  const prefix = `bmc${id}.`;

  const app = createApp({ ...benchAppEnv({ mysqlUrl, natsUrl, prefix, secret: SECRET }), DB_NAME: database, JOB_CHECK_INTERVAL_MS: '0' });
  const pool = mysql.createPool({ uri: `${mysqlUrl}/${database}`, connectionLimit: 2 });
  const natsPid = pidOf('nats-server');
  try {
    await app.migrate();
    const { url } = await app.start();
    const { kit } = app;
    const statements = timeStatements(kit.ds as unknown as Parameters<typeof timeStatements>[0]);
    const { token } = await signToken(kit.tokens, { sub: 'cost-bench', kind: 'staff', roles: [Role.ADMIN], scopes: [] }, 3600);
    console.log(`Member subgraph at ${url} (database ${database}, NATS prefix ${prefix}), load average ${loadAverage()}`);

    const unsent = async () => {
      const [rows] = await pool.query('SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL');
      return Number((rows as Array<{ n: number }>)[0]!.n);
    };
    const phase = async (name: string, unit: string, job: Job) => {
      const child = fork(fileURLToPath(import.meta.url), ['--client'], { stdio: 'inherit' });
      const done = new Promise<JobResult>((resolve, reject) => {
        child.once('message', (r) => resolve(r as JobResult));
        child.once('exit', (code) => reject(new Error(`client exited with ${code}`)));
      });
      await new Promise((r) => setTimeout(r, 1500)); // let the client load its modules first
      statements.take();
      const load0 = loadAverage();
      const cpu0 = process.cpuUsage();
      const [m0, n0] = [processCpuSeconds(), processCpuSeconds(natsPid)];
      const profiler = profile ? await startCpuProfile() : null;
      const t0 = Date.now();
      child.send(job);
      const r = await done;
      const apiCpu = process.cpuUsage(cpu0);
      const apiMs = Date.now() - t0;
      // The phase includes publishing what it wrote: the relay's statements and CPU count.
      while ((await unsent()) > 0) await new Promise((res) => setTimeout(res, 50));
      const seconds = (Date.now() - t0) / 1000;
      const summary = await profiler?.stop(env('PROFILE_DIR') ? `${env('PROFILE_DIR')}/member-${name}.cpuprofile` : undefined);
      const cpu = process.cpuUsage(cpu0);
      const [m1, n1] = [processCpuSeconds(), processCpuSeconds(natsPid)];
      const counts = statements.take();
      const ops = Math.max(1, r.ops);
      const perOp = (x: number) => Math.round((x / ops) * 100) / 100;
      const ms = (s: number | null) => (s === null ? null : Math.round((s * 1e6) / ops) / 1000);
      const total = [...counts.values()].reduce((a, b) => a + b.count, 0);
      const figures = {
        phase: name,
        [unit]: r.ops,
        failed: r.failed,
        perSecond: Math.round((r.ops / r.seconds) * 10) / 10,
        ...(r.p50 !== undefined ? { p50: r.p50, p99: r.p99 } : {}),
        statementsPerOp: perOp(total),
        nodeCpuMsPerOp: ms((cpu.user + cpu.system) / 1e6),
        mysqldCpuMsPerOp: ms(m0 !== null && m1 !== null ? m1 - m0 : null),
        natsCpuMsPerOp: ms(n0 !== null && n1 !== null ? n1 - n0 : null),
        loadAverage: [load0, loadAverage()],
      };
      console.log(`\n== ${name}: ${r.ops} ${unit} (${r.failed} failed) in ${r.seconds.toFixed(1)} s, drained after ${seconds.toFixed(1)} s`);
      console.log(`node CPU until the client finished: ${ms((apiCpu.user + apiCpu.system) / 1e6)} ms per op over ${(apiMs / 1000).toFixed(1)} s; the relay's drain after it: ${ms((cpu.user + cpu.system - apiCpu.user - apiCpu.system) / 1e6)} ms per op`);
      console.log(`statements per ${unit.replace(/s$/, '')}: ${perOp(total)}`);
      console.log('  per op   ms per op (statements over 1 ms)');
      for (const [kind, { count, slowMs }] of [...counts.entries()].sort((a, b) => b[1].count - a[1].count)) {
        console.log(`  ${perOp(count).toFixed(3).padStart(6)}  ${(slowMs / ops).toFixed(3).padStart(8)}  ${kind}`);
      }
      console.log(`CPU per ${unit.replace(/s$/, '')}: node ${figures.nodeCpuMsPerOp} ms, mysqld ${figures.mysqldCpuMsPerOp} ms, nats-server ${figures.natsCpuMsPerOp} ms (load average ${load0} -> ${loadAverage()})`);
      if (summary) printCpuProfile('member subgraph', summary, ops, positiveInt('TOP', 20));
      console.log(`JSON ${JSON.stringify(figures)}`);
      if (r.failed) process.exitCode = 1;
      return r;
    };

    const base = 13_900_000_000 + Math.floor(Math.random() * 90) * 1_000_000;
    let registered = 0;
    if (registerSeconds) {
      const r = await phase('register', 'registrations', { kind: 'register', url, token, seconds: registerSeconds, connections, phoneBase: base });
      registered = r.ops;
    }
    if (importRows) await phase('import', 'rows', { kind: 'import', url, token, rows: importRows, batch, inFlight, phoneBase: base + 500_000 });
    if (lookupSeconds && registered) {
      await phase('lookup', 'lookups', { kind: 'lookup', url, token, seconds: lookupSeconds, connections, phoneBase: base, phones: registered });
    }
  } finally {
    await pool.end().catch(() => undefined);
    await app.stop().catch(() => undefined);
    if (!env('MEMBER_DB')) await dropDatabase(mysqlUrl, database).catch(() => undefined);
    const bus = await Bus.connect({ url: natsUrl, prefix, name: 'bench-cleanup', log: createLogger('bench', 'silent') }).catch(() => null);
    if (bus) {
      await bus.deleteStreams().catch(() => undefined);
      await bus.close();
    }
  }
}
