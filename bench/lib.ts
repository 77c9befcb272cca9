/** What every bench script shares: settings from the environment, GraphQL calls, a staff token, the report. */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { loadavg } from 'node:os';
import type { Result } from 'autocannon';
import type { Logger } from 'typeorm';
import { WebSocket } from 'undici';

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

export function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function positiveInt(name: string, fallback: number, min = 1): number {
  const raw = env(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min} (got "${raw}")`);
  return n;
}

export async function graphql<T>(url: string, query: string, variables: object, token?: string): Promise<T> {
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

export async function obtainToken(url: string): Promise<string | undefined> {
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


/** Prints autocannon's result in the shape docs/benchmarks.md records, plus one JSON line; exit 1 on any failure. */
export function report(result: Result, extra: Record<string, unknown>): void {
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const summary = {
    ...extra,
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

/** Runs `main` and turns a thrown error into one line and exit code 1. */
export function run(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

/** The pid of the first local process whose name is one of `names` (from /proc), or null. */
export function pidOf(...names: string[]): string | null {
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (names.includes(readFileSync(`/proc/${d}/comm`, 'utf8').trim())) return d;
    } catch {
      // exited meanwhile
    }
  }
  return null;
}

/** The pid of the local mysqld/mariadbd, looked up once; null when there is none (a remote server). */
export const mysqldPid = (() => {
  let pid: string | null | undefined;
  return () => (pid === undefined ? (pid = pidOf('mariadbd', 'mysqld')) : pid);
})();

/** CPU seconds (user + system) a process has used, from /proc (mysqld's by default); null when it cannot be read. */
export function processCpuSeconds(pid: string | null = mysqldPid()): number | null {
  if (!pid) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** The 1-minute load average, to note beside every figure (the machine is shared). */
export function loadAverage(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

/**
 * Counts the SQL statements a TypeORM DataSource sends (every `query()` goes through its logger,
 * transaction control included), by verb and first table: `SELECT member`, `INSERT outbox`, `COMMIT`.
 */
export function countStatements(ds: { logger: Logger }): { take(): Map<string, number> } {
  const timed = timeStatements(ds as Parameters<typeof timeStatements>[0], false);
  return { take: () => new Map([...timed.take()].map(([kind, { count }]) => [kind, count])) };
}

/**
 * `countStatements`, plus the wall time of those that took over 1 ms (TypeORM reports only slow
 * queries with their time, so `maxQueryExecutionTime` is set to 1 for that): where a batch's time goes.
 */
export function timeStatements(
  ds: { logger: Logger; driver: { options: { maxQueryExecutionTime?: number } } },
  timed = true,
): { take(): Map<string, { count: number; slowMs: number }> } {
  let counts = new Map<string, { count: number; slowMs: number }>();
  const entry = (query: string) => {
    const key = statementKind(query);
    let e = counts.get(key);
    if (!e) counts.set(key, (e = { count: 0, slowMs: 0 }));
    return e;
  };
  const inner = ds.logger;
  if (timed) ds.driver.options.maxQueryExecutionTime = 1;
  ds.logger = {
    logQuery(query: string) {
      entry(query).count++;
    },
    logQuerySlow(time: number, query: string) {
      entry(query).slowMs += time;
    },
    logQueryError: (...args) => inner.logQueryError(...args),
    logSchemaBuild: (...args) => inner.logSchemaBuild(...args),
    logMigration: (...args) => inner.logMigration(...args),
    log: (...args) => inner.log(...args),
  };
  return {
    /** The counts since the last take (or since counting started). */
    take() {
      const out = counts;
      counts = new Map();
      return out;
    },
  };
}

function statementKind(sql: string): string {
  const s = sql.trim().replace(/\s+/g, ' ');
  const verb = /^(SET TRANSACTION|START TRANSACTION|COMMIT|ROLLBACK|SELECT|INSERT|UPDATE|DELETE|[A-Z]+)/i.exec(s)?.[1]?.toUpperCase() ?? '?';
  const table = /\b(?:FROM|INTO|UPDATE)\s+`?(\w+)`?/i.exec(s)?.[1];
  const locking = /FOR UPDATE/i.test(s) ? ' FOR UPDATE' : '';
  return table ? `${verb} ${table}${locking}` : verb;
}

/** Where a sampled call frame's code lives: an npm package, a folder of this repo, or a node module; null for native frames. */
function codeOwner(url: string): string | null {
  if (!url) return null;
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const repo = /\/(services\/[^/]+|packages\/[^/]+|gateway|bench|infra)\//.exec(url);
  return repo ? repo[1]! : url;
}

/** Self time by code owner and by function, in ms, largest first. */
export interface CpuProfileSummary {
  /** Package, repo folder or node module; native frames (builtins, JSON, crypto) count for the JS that called them; V8's own buckets as `(garbage collector)`, `(program)`, `(idle)`. */
  owners: Array<[string, number]>;
  /** `function owner` of the hottest frames (native ones as `name [native] <- caller's owner`). */
  functions: Array<[string, number]>;
}

type Post = <T>(method: string, params?: object) => Promise<T>;

/** Starts V8's sampling profiler through an inspector session; `stop()` sums the samples (see `summarizeCpuProfile`). */
async function profileThrough(post: Post, close: () => void, intervalUs: number): Promise<{ stop(file?: string): Promise<CpuProfileSummary> }> {
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: intervalUs });
  await post('Profiler.start');
  return {
    async stop(file?: string) {
      const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
      close();
      if (file) writeFileSync(file, JSON.stringify(profile));
      return summarizeCpuProfile(profile);
    },
  };
}

/**
 * Samples this process's main thread with V8's profiler until `stop()`, which sums the self time
 * of the samples by code owner and by function. `file` keeps the raw .cpuprofile for DevTools.
 */
export async function startCpuProfile(intervalUs = 200): Promise<{ stop(file?: string): Promise<CpuProfileSummary> }> {
  const session = new Session();
  session.connect();
  const post: Post = <T>(method: string, params?: object) =>
    new Promise<T>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
  return profileThrough(post, () => session.disconnect(), intervalUs);
}

/**
 * The same for another node process, started with `--inspect=127.0.0.1:<inspectPort>`: profiles
 * exactly from this call to `stop()` (a measured window), over the inspector's WebSocket.
 */
export async function startRemoteCpuProfile(inspectPort: number, intervalUs = 200): Promise<{ stop(file?: string): Promise<CpuProfileSummary> }> {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  if (!target) throw new Error(`no inspector target on port ${inspectPort}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`cannot reach the inspector on port ${inspectPort}`));
  });
  const waiting = new Map<number, (msg: { result?: unknown; error?: { message: string } }) => void>();
  ws.onmessage = (e) => {
    const msg = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg);
  };
  let next = 0;
  const post: Post = <T>(method: string, params?: object) =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, (msg) => (msg.error ? reject(new Error(msg.error.message)) : resolve(msg.result as T)));
      ws.send(JSON.stringify({ id, method, params: params ?? {} }));
    });
  return profileThrough(post, () => ws.close(), intervalUs);
}

/** Sums a V8 CPU profile's (`.cpuprofile`, from `startCpuProfile` or `node --cpu-prof`) self time by code owner and by function. */
export function summarizeCpuProfile(profile: CpuProfile): CpuProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = new Map<number, [string, string]>();
  const labelOf = (id: number): [string, string] => {
    const known = label.get(id);
    if (known) return known;
    const { functionName, url } = byId.get(id)!.callFrame;
    let out: [string, string];
    const own = codeOwner(url);
    if (own) out = [own, `${functionName || '(anonymous)'} ${own}`];
    else if (functionName.startsWith('(')) out = [functionName, functionName];
    else {
      const up = parent.get(id);
      const caller = up === undefined ? '(native)' : labelOf(up)[0];
      out = [caller, `${functionName} [native] <- ${caller}`];
    }
    label.set(id, out);
    return out;
  };
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const [owner, fn] = labelOf(id);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    owners.set(owner, (owners.get(owner) ?? 0) + ms);
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
  });
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { owners: sorted(owners), functions: sorted(functions) };
}

/** Prints a profile summary per operation: the top owners and functions, in ms per op. */
export function printCpuProfile(title: string, summary: CpuProfileSummary, ops: number, top = 20): void {
  console.log(`${title}: self time by owner (ms per op; (idle) is not CPU):`);
  for (const [owner, t] of summary.owners.slice(0, top)) console.log(`  ${(t / ops).toFixed(3).padStart(8)}  ${owner}`);
  console.log(`${title}: hottest functions (ms per op):`);
  for (const [fn, t] of summary.functions.slice(0, top)) console.log(`  ${(t / ops).toFixed(3).padStart(8)}  ${fn}`);
}

/** A V8 CPU profile, as the inspector and `--cpu-prof` write it. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

/** The env of a service app a bench starts in its own process: its own NATS prefix, quiet logs, any free port. */
export function benchAppEnv(opts: { mysqlUrl: string; natsUrl: string; prefix: string; secret: string }): Record<string, string> {
  return {
    NODE_ENV: 'development',
    LOG_LEVEL: env('LOG_LEVEL') ?? 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    MYSQL_URL: opts.mysqlUrl,
    NATS_URL: opts.natsUrl,
    NATS_PREFIX: opts.prefix,
    JWT_SECRET: opts.secret,
  };
}
