/**
 * Balance-only checkout payments a second, straight at the wallet subgraph and through the
 * gateway, beside the ceiling of a bare transaction on the same MySQL. Starts its own wallet app in
 * this process on a scratch database and NATS prefix (migrated, dropped afterwards), and the
 * gateway (gateway/src/main.ts, the committed supergraph, WALLET_SUBGRAPH_URL pointing at that
 * wallet) as a child process, as it runs in production; seeds one hot account and ACCOUNTS others
 * with top-ups, then runs, CONNECTIONS clients each:
 *   1. pay on one hot account, at the subgraph  (pay: balance only, pointsToUse 0, under the OTP threshold)
 *   2. pay across ACCOUNTS accounts, at the subgraph
 *   3. pay on one hot account, through the gateway  (the same request; the plan is one wallet fetch)
 *   4. pay across ACCOUNTS accounts, through the gateway
 *   5. ceiling, bare mysql2: BEGIN; UPDATE account SET balance = balance - ? WHERE id = ? AND
 *      balance >= ?; INSERT one ledger row; COMMIT  (scratch tables), on one row and on ACCOUNTS rows
 *   6. the same bare transaction plus a global chain-head row locked and updated in it (the
 *      wallet's hash-chain pattern before journals were sealed apart), on ACCOUNTS rows
 * and prints payments/s, p50/p99 and, to say what limits a run, the CPU this process (wallet +
 * load generator), the gateway process and mysqld used, InnoDB row-lock waits, and statements and
 * commits per payment. Measures that do not depend on how loaded the (shared) machine is: the
 * statements the wallet's own DataSource sent per payment (relay and sealer included; the
 * server-wide counters also count other sessions'), the round trips per payment made while a
 * member's account row was locked (from the statement that takes the lock, `UPDATE wallet_account`
 * or `... FOR UPDATE` on it, through COMMIT/ROLLBACK: 3 for the bare ceiling), and CPU ms per
 * payment. The 1-minute load average is printed with every run.
 *
 *   npm run bench:pay
 *   DURATION (default 10), CONNECTIONS (32), ACCOUNTS (1000), WARMUP (2), AMOUNT (fen, 100),
 *   GATEWAY (1; 0 skips runs 3 and 4), MYSQL_URL, NATS_URL,
 *   PROFILE_DIR (writes a V8 .cpuprofile of this process per pay run there, for DevTools)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { Session } from 'node:inspector/promises';
import type { Logger, QueryRunner } from 'typeorm';
import autocannon from 'autocannon';
import mysql from 'mysql2/promise';
import { Bus, createLogger, dropDatabase, newId, signToken } from '@membergraph/platform';
import { createApp } from '../services/wallet/src/app';
import { openWallet } from '../services/wallet/src/services/wallet-account.service';
import { topUp } from '../services/wallet/src/services/top-up.service';
import { auditLedger } from '../services/wallet/src/services/ledger-audit.service';
import { benchAppEnv, env, positiveInt, run } from './lib';

const PAY = 'mutation($input: PayInput!) { pay(input: $input) { status } }';
const SECRET = 'wallet-bench-secret-0123456789abcdef0123456789';

interface Figures {
  name: string;
  perSecond: number;
  p50: number;
  p99: number;
  total: number;
  failed: number;
  nodeCpu: number;
  /** CPU of the gateway process (null: a run at the subgraph). */
  gatewayCpu: number | null;
  mysqldCpu: number | null;
  lockWaits: number;
  lockWaitMs: number;
  statementsPerOp: number;
  commitsPerOp: number;
  /** This process's event-loop delay (p99, ms): how long a ready callback (a row lock holder's next statement) may wait for its turn. */
  loopDelayP99: number;
  /** Statements the wallet's DataSource sent per payment (null: a bare run, 4 by construction). */
  walletStatementsPerOp: number | null;
  /** Round trips per payment while a member's account row was locked (null: a bare run, 3 by construction). */
  lockRoundTripsPerOp: number | null;
  /** CPU ms per payment of this process (wallet + load generator) and of the gateway. */
  nodeCpuMsPerOp: number;
  gatewayCpuMsPerOp: number | null;
  /** 1-minute load average before and after the run. */
  load: [number, number];
}

/**
 * Counts the statements a TypeORM DataSource sends (every `query()` goes through its logger,
 * transaction control included) and, per connection, those sent while a member's account row is
 * locked: from the statement that locks it to the end of the transaction.
 */
class StatementCounter {
  statements = 0;
  underLock = 0;
  readonly byKind = new Map<string, number>();
  private readonly locked = new WeakSet<object>();

  constructor(ds: { logger: Logger }) {
    const inner = ds.logger;
    ds.logger = {
      logQuery: (query: string, _params?: unknown[], runner?: QueryRunner) => this.count(query, runner),
      logQueryError: (...args) => inner.logQueryError(...args),
      logQuerySlow: (...args) => inner.logQuerySlow(...args),
      logSchemaBuild: (...args) => inner.logSchemaBuild(...args),
      logMigration: (...args) => inner.logMigration(...args),
      log: (...args) => inner.log(...args),
    };
  }

  private count(query: string, runner?: QueryRunner) {
    const sql = query.trim().replace(/\s+/g, ' ');
    this.statements++;
    const kind = statementKind(sql);
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
    if (!runner) return;
    if (!this.locked.has(runner) && runner.isTransactionActive && /^UPDATE `?wallet_account`? |^SELECT .* FROM `?wallet_account`? .*FOR UPDATE$/i.test(sql)) this.locked.add(runner);
    if (this.locked.has(runner)) {
      this.underLock++;
      if (/^(COMMIT|ROLLBACK)/i.test(sql)) this.locked.delete(runner);
    }
  }

  snapshot() {
    return { statements: this.statements, underLock: this.underLock, byKind: new Map(this.byKind) };
  }
}

function statementKind(sql: string): string {
  const verb = /^(SET TRANSACTION|START TRANSACTION|COMMIT|ROLLBACK|SELECT|INSERT|UPDATE|DELETE|[A-Z]+)/i.exec(sql)?.[1]?.toUpperCase() ?? '?';
  const table = /\b(?:FROM|INTO|UPDATE)\s+`?(\w+)`?/i.exec(sql)?.[1];
  return `${verb}${table ? ` ${table}` : ''}${/FOR UPDATE/i.test(sql) ? ' FOR UPDATE' : ''}`;
}

const loadAverage = () => Math.round(loadavg()[0]! * 100) / 100;

/** The pid of the local mysqld/mariadbd, looked up once in /proc; null when there is none (a remote server). */
const mysqldPid = (() => {
  let pid: string | null | undefined;
  return () => {
    if (pid !== undefined) return pid;
    pid = null;
    for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      try {
        if (['mariadbd', 'mysqld'].includes(readFileSync(`/proc/${d}/comm`, 'utf8').trim())) return (pid = d);
      } catch {
        // exited meanwhile
      }
    }
    return pid;
  };
})();

/** CPU seconds (user + system) a process (mysqld by default) has used, from /proc; null when it cannot be read. */
function cpuSeconds(pid: string | null = mysqldPid()): number | null {
  if (!pid) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** What the server did during a run: lock waits, statements and commits. */
async function serverStatus(pool: mysql.Pool): Promise<Record<string, number>> {
  const [rows] = await pool.query(
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_row_lock_waits', 'Innodb_row_lock_time', 'Questions', 'Com_commit')",
  );
  return Object.fromEntries((rows as Array<{ Variable_name: string; Value: string }>).map((r) => [r.Variable_name, Number(r.Value)]));
}

/** Runs `work` while sampling CPU (this process, mysqld and, given its pid, the gateway) and server counters around it. */
async function measured(
  pool: mysql.Pool,
  name: string,
  work: () => Promise<{ perSecond: number; p50: number; p99: number; total: number; failed: number }>,
  gatewayPid: string | null = null,
  counter: StatementCounter | null = null,
): Promise<Figures> {
  const l0 = loadAverage();
  const w0 = counter?.snapshot();
  const profileDir = counter ? env('PROFILE_DIR') : undefined;
  const profiler = profileDir ? new Session() : null;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const s0 = await serverStatus(pool);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const c0 = process.cpuUsage();
  const m0 = cpuSeconds();
  const g0 = gatewayPid ? cpuSeconds(gatewayPid) : null;
  const t0 = Date.now();
  const r = await work();
  const seconds = (Date.now() - t0) / 1000;
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    const file = `${profileDir}/${name.replace(/\W+/g, '-')}.cpuprofile`;
    writeFileSync(file, JSON.stringify(profile));
    profiler.disconnect();
    console.log(`  CPU profile of this process: ${file}`);
  }
  const c1 = process.cpuUsage(c0);
  loop.disable();
  const m1 = cpuSeconds();
  const g1 = gatewayPid ? cpuSeconds(gatewayPid) : null;
  const s1 = await serverStatus(pool);
  const w1 = counter?.snapshot();
  const ops = Math.max(1, r.total + r.failed);
  const perOp = (n: number | undefined, m: number | undefined) => (n === undefined || m === undefined ? null : (n - m) / ops);
  if (w0 && w1) {
    const kinds = [...w1.byKind].map(([k, n]) => [k, (n - (w0.byKind.get(k) ?? 0)) / ops] as const).filter(([, n]) => n >= 0.01);
    console.log(`  ${name}: wallet statements per payment: ${kinds.sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n.toFixed(2)}`).join(', ')}`);
  }
  return {
    name,
    ...r,
    walletStatementsPerOp: perOp(w1?.statements, w0?.statements),
    lockRoundTripsPerOp: perOp(w1?.underLock, w0?.underLock),
    nodeCpuMsPerOp: ((c1.user + c1.system) / 1e3) / ops,
    gatewayCpuMsPerOp: g0 !== null && g1 !== null ? ((g1 - g0) * 1000) / ops : null,
    load: [l0, loadAverage()],
    nodeCpu: (c1.user + c1.system) / 1e6 / seconds,
    gatewayCpu: g0 !== null && g1 !== null ? (g1 - g0) / seconds : null,
    mysqldCpu: m0 !== null && m1 !== null ? (m1 - m0) / seconds : null,
    lockWaits: s1.Innodb_row_lock_waits! - s0.Innodb_row_lock_waits!,
    lockWaitMs: s1.Innodb_row_lock_time! - s0.Innodb_row_lock_time!,
    statementsPerOp: (s1.Questions! - s0.Questions!) / ops,
    commitsPerOp: (s1.Com_commit! - s0.Com_commit!) / ops,
    loopDelayP99: loop.percentile(99) / 1e6,
  };
}

/** The first column of the first row of `sql`, as a number. */
async function scalar(pool: mysql.Pool, sql: string, params: unknown[] = []): Promise<number> {
  const [rows] = await pool.query(sql, params);
  return Number(Object.values((rows as Array<Record<string, unknown>>)[0] ?? {})[0] ?? 0);
}

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The gateway as its own process (`node --import tsx gateway/src/main.ts`), on the committed
 * supergraph with the wallet subgraph URL pointing at `walletUrl` (pay plans to the wallet only, so
 * the other subgraphs are never called); resolves once /readyz answers 200.
 */
async function startGateway(walletUrl: string, secret: string, connections: number): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const root = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      LOG_LEVEL: env('LOG_LEVEL') ?? 'warn',
      HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      JWT_SECRET: secret,
      WALLET_SUBGRAPH_URL: walletUrl,
      // One keep-alive socket per client: the gateway never queues in front of the wallet.
      SUBGRAPH_CONNECTIONS: String(Math.max(connections, 64)),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(force);
  };
  const deadline = Date.now() + 120_000;
  let last = '';
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}) before it was ready`);
    last = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => String(r.status),
      (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message,
    );
    if (last === '200') break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the gateway was not ready within 120 s (/readyz: ${last})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url: `http://127.0.0.1:${port}/graphql`, child, stop };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

run(async () => {
  const duration = positiveInt('DURATION', 10);
  const connections = positiveInt('CONNECTIONS', 32);
  const accounts = positiveInt('ACCOUNTS', 1000);
  const warmup = positiveInt('WARMUP', 2, 0);
  const amount = positiveInt('AMOUNT', 100);
  const withGateway = env('GATEWAY') !== '0';
  const mysqlUrl = env('MYSQL_URL') ?? 'mysql://root@127.0.0.1:3306';
  const natsUrl = env('NATS_URL') ?? 'nats://127.0.0.1:4222';
  const id = randomBytes(4).toString('hex');
  const database = `bench_wallet_${id}`;
  const prefix = `bwp${id}.`;

  const app = createApp({
    ...benchAppEnv({ mysqlUrl, natsUrl, prefix, secret: SECRET }),
    DB_NAME: database,
    // Throughput, not risk: no caps or velocity in the way of thousands of payments on one account.
    RISK_SINGLE_PAYMENT_CAP: '1000000000',
    RISK_DAILY_CAP: '1000000000000',
    RISK_VELOCITY_MAX_PAYMENTS: '0',
    RISK_FREEZE_AFTER_HITS: '0',
  });
  const pool = mysql.createPool({ uri: `${mysqlUrl}/${database}`, connectionLimit: connections + 2 });
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    await app.migrate();
    const { url } = await app.start();
    const { kit } = app;
    const counter = new StatementCounter(kit.ds);
    console.log(`Wallet subgraph at ${url} (database ${database}, NATS prefix ${prefix}); seeding 1 hot + ${accounts} accounts...`);

    const load = async (memberId: string, fen: number) =>
      kit.uow((em) => topUp(kit, em, { memberId, amount: fen, paymentRef: `seed-${newId()}`, channel: 'APP', storeId: null, idempotencyKey: `seed-${newId()}` }));
    const open = async () => {
      const memberId = newId();
      await kit.uow((em) => openWallet(kit, em, memberId));
      return memberId;
    };
    const hot = await open();
    // Enough for every payment the hot run could make (10 million yuan).
    for (let i = 0; i < 10; i++) await load(hot, 100_000_000);
    const members: string[] = [];
    for (let i = 0; i < accounts; i += 16) {
      members.push(...(await Promise.all(Array.from({ length: Math.min(16, accounts - i) }, async () => {
        const m = await open();
        await load(m, 1_000_000);
        return m;
      }))));
    }
    const balanceOf = (m: string) => scalar(pool, 'SELECT principal + bonus FROM wallet_account WHERE member_id = ?', [m]);
    const hotBefore = await balanceOf(hot);

    const { token } = await signToken({ secret: SECRET, issuer: 'membergraph' }, { sub: 'bench-pos', kind: 'client', roles: [], scopes: ['wallet:pay'] }, 3600);
    let n = 0;
    const pay = (pick: () => string, target = url) => async () => {
      const cannon = await autocannon({
        url: target,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        connections,
        duration,
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              body: JSON.stringify({ query: PAY, variables: { input: { memberId: pick(), orderRef: `bench-${n}`, amount, idempotencyKey: `bench-${id}-${n++}` } } }),
            }),
          },
        ],
        verifyBody: (b) => b.includes('"CAPTURED"'),
      });
      const failed = cannon.errors + cannon.timeouts + cannon.non2xx + cannon.mismatches;
      return { perSecond: (cannon.requests.total - failed) / duration, p50: cannon.latency.p50, p99: cannon.latency.p99, total: cannon.requests.total - cannon.mismatches - cannon.non2xx, failed };
    };
    const warm = async (pick: () => string, target = url) => {
      if (!warmup) return;
      await autocannon({
        url: target,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        connections,
        duration: warmup,
        requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ query: PAY, variables: { input: { memberId: pick(), orderRef: `warm-${n}`, amount, idempotencyKey: `warm-${id}-${n++}` } } }) }) }],
      });
    };

    const results: Figures[] = [];
    const hotPick = () => hot;
    const spreadPick = () => members[Math.floor(Math.random() * members.length)]!;
    console.log(`Warm-up ${warmup}s, then pay on the hot account for ${duration}s at ${connections} clients...`);
    await warm(hotPick);
    const capturedOn = (m: string) => scalar(pool, "SELECT COUNT(*) FROM wallet_payment WHERE member_id = ? AND status = 'CAPTURED'", [m]);
    const hotPaysBefore = await capturedOn(hot);
    results.push(await measured(pool, 'pay, one hot account', pay(hotPick), null, counter));
    console.log(`Pay across ${members.length} accounts for ${duration}s...`);
    await warm(spreadPick);
    results.push(await measured(pool, `pay, ${members.length} accounts`, pay(spreadPick), null, counter));

    if (withGateway) {
      gateway = await startGateway(url, SECRET, connections);
      // One payment first: fail fast with the gateway's own message if the request does not go through.
      const probe = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: PAY, variables: { input: { memberId: hot, orderRef: 'gateway-probe', amount, idempotencyKey: `probe-${id}` } } }),
      }).then((r) => r.text());
      if (!probe.includes('"CAPTURED"')) throw new Error(`a payment through the gateway failed: ${probe.slice(0, 300)}`);
      const gwPid = String(gateway.child.pid);
      console.log(`Gateway at ${gateway.url} (pid ${gwPid}); pay on the hot account through it for ${duration}s...`);
      await warm(hotPick, gateway.url);
      results.push(await measured(pool, 'pay, one hot account, via gateway', pay(hotPick, gateway.url), gwPid, counter));
      console.log(`Pay across ${members.length} accounts through the gateway for ${duration}s...`);
      await warm(spreadPick, gateway.url);
      results.push(await measured(pool, `pay, ${members.length} accounts, via gateway`, pay(spreadPick, gateway.url), gwPid, counter));
      await gateway.stop();
      gateway = undefined;
    }

    // The ceiling: the same MySQL, a bare transaction per payment.
    await pool.query('CREATE TABLE bench_account (id INT PRIMARY KEY, balance BIGINT NOT NULL) ENGINE=InnoDB');
    await pool.query('CREATE TABLE bench_ledger (id BIGINT AUTO_INCREMENT PRIMARY KEY, account_id INT NOT NULL, amount BIGINT NOT NULL, created_at DATETIME(3) NOT NULL) ENGINE=InnoDB');
    await pool.query(`INSERT INTO bench_account (id, balance) VALUES ${Array.from({ length: accounts + 1 }, (_, i) => `(${i}, 1000000000000)`).join(',')}`);
    await pool.query('CREATE TABLE bench_head (id TINYINT PRIMARY KEY, seq BIGINT NOT NULL) ENGINE=InnoDB');
    await pool.query('INSERT INTO bench_head VALUES (1, 0)');
    // withHead: the same transaction plus the wallet's pattern of one global chain-head row locked
    // after the account and held to the commit, to measure what a single head costs by itself.
    const bare = (pick: () => number, withHead = false) => async () => {
      const latencies: number[] = [];
      let failed = 0;
      const deadline = Date.now() + duration * 1000;
      await Promise.all(
        Array.from({ length: connections }, async () => {
          const conn = await pool.getConnection();
          try {
            while (Date.now() < deadline) {
              const t = performance.now();
              const account = pick();
              await conn.query('BEGIN');
              const [res] = await conn.query('UPDATE bench_account SET balance = balance - ? WHERE id = ? AND balance >= ?', [amount, account, amount]);
              if ((res as { affectedRows: number }).affectedRows !== 1) {
                failed++;
                await conn.query('ROLLBACK');
                continue;
              }
              if (withHead) await conn.query('SELECT seq FROM bench_head WHERE id = 1 FOR UPDATE');
              await conn.query('INSERT INTO bench_ledger (account_id, amount, created_at) VALUES (?, ?, NOW(3))', [account, -amount]);
              if (withHead) await conn.query('UPDATE bench_head SET seq = seq + 1 WHERE id = 1');
              await conn.query('COMMIT');
              latencies.push(performance.now() - t);
            }
          } finally {
            conn.release();
          }
        }),
      );
      latencies.sort((a, b) => a - b);
      return { perSecond: latencies.length / duration, p50: Math.round(percentile(latencies, 50) * 10) / 10, p99: Math.round(percentile(latencies, 99) * 10) / 10, total: latencies.length, failed };
    };
    console.log(`Ceiling: bare UPDATE + INSERT transactions for ${duration}s on one row, on ${accounts} rows, and with a chain-head row...`);
    results.push(await measured(pool, 'ceiling, bare tx, one row', bare(() => 0)));
    results.push(await measured(pool, `ceiling, bare tx, ${accounts} rows`, bare(() => 1 + Math.floor(Math.random() * accounts))));
    results.push(await measured(pool, `bare tx + one chain-head row, ${accounts} rows`, bare(() => 1 + Math.floor(Math.random() * accounts), true)));

    // The money is right after all that.
    const hotAfter = await balanceOf(hot);
    const hotPays = await capturedOn(hot);
    const unfinished = await scalar(pool, "SELECT COUNT(*) FROM wallet_payment WHERE status NOT IN ('CAPTURED', 'FAILED')");
    // auditLedger seals what the sealer has not reached yet first, then checks the whole chain.
    const audit = await auditLedger(kit.ds);

    const f = (x: number) => (Math.round(x * 10) / 10).toString();
    console.log('');
    const f2 = (x: number | null, bare: string) => (x === null ? bare : (Math.round(x * 100) / 100).toString());
    console.log(
      '| run | payments/s | p50 ms | p99 ms | ok / failed | wallet statements / payment | round trips under the member lock / payment | node CPU ms / payment (wallet + load) | gateway CPU ms / payment | node CPU | gateway CPU | mysqld CPU | row-lock waits (ms) | server statements / payment | commits / payment | event-loop delay p99 ms | load average (before → after) |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      console.log(
        `| ${r.name} | ${f(r.perSecond)} | ${f(r.p50)} | ${f(r.p99)} | ${r.total} / ${r.failed} | ${f2(r.walletStatementsPerOp, r.name.includes('chain-head') ? '6 (bare)' : '4 (bare)')} | ${f2(r.lockRoundTripsPerOp, r.name.includes('chain-head') ? '5 (bare)' : '3 (bare)')} | ${f2(r.nodeCpuMsPerOp, '')} | ${f2(r.gatewayCpuMsPerOp, '')} | ${f(r.nodeCpu * 100)}% | ${r.gatewayCpu === null ? '' : `${f(r.gatewayCpu * 100)}%`} | ${r.mysqldCpu === null ? '?' : `${f(r.mysqldCpu * 100)}%`} | ${r.lockWaits} (${r.lockWaitMs}) | ${f(r.statementsPerOp)} | ${f(r.commitsPerOp)} | ${f(r.loopDelayP99)} | ${r.load[0]} → ${r.load[1]} |`,
      );
    }
    const hotOk = hotBefore - hotAfter === hotPays * amount;
    console.log('');
    console.log(`hot account: ${hotPays - hotPaysBefore} payments captured in the measured run, ${hotPays} in all; balance moved by exactly ${hotPays} x ${amount} fen: ${hotOk}`);
    console.log(`unfinished payments: ${unfinished}; walletAudit: ok=${audit.ok}, ${audit.journalsChecked} journals, ${audit.differences.length} differences`);
    console.log(`\nJSON ${JSON.stringify({ duration, connections, accounts, amount, results })}`);
    if (!hotOk || !audit.ok || unfinished > 0 || results.some((r) => r.failed)) process.exitCode = 1;
  } finally {
    await gateway?.stop().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await app.stop().catch(() => undefined);
    await dropDatabase(mysqlUrl, database).catch(() => undefined);
    const bus = await Bus.connect({ url: natsUrl, prefix, name: 'bench-cleanup', log: createLogger('bench', 'silent') }).catch(() => null);
    if (bus) {
      await bus.deleteStreams().catch(() => undefined);
      await bus.close();
    }
  }
});
