/**
 * `npm start`: find or start MySQL and NATS, migrate and start the five subgraphs, then the gateway.
 *
 * Ports (override with env): MEMBER_PORT 4001, POINTS_PORT 4002, WALLET_PORT 4003, MARKETING_PORT 4004,
 * ANALYTICS_PORT 4005, GATEWAY_PORT 4000. Ctrl-C / SIGTERM stops the gateway, then the services, then the
 * local MySQL/NATS started here. If a child dies unexpectedly everything is stopped and the exit code is 1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureInfra, killSync, redact, stopChild, type InfraHandle } from './local-infra';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const SERVICES = [
  { name: 'member', port: 4001 },
  { name: 'points', port: 4002 },
  { name: 'wallet', port: 4003 },
  { name: 'marketing', port: 4004 },
  { name: 'analytics', port: 4005 },
].map((s) => ({ ...s, port: envPort(`${s.name.toUpperCase()}_PORT`, s.port) }));
const GATEWAY_PORT = envPort('GATEWAY_PORT', 4000);
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error(`${name}=${raw} is not a valid port`);
    process.exit(1);
  }
  return port;
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
const LEVELS: Record<number, [string, string]> = {
  10: ['trace', '90'],
  20: ['debug', '90'],
  30: ['info', '32'],
  40: ['warn', '33'],
  50: ['error', '31'],
  60: ['fatal', '41'],
};
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v']);

function say(msg: string): void {
  console.log(`${paint('36', '[start]')} ${msg}`);
}

/** A pino JSON line as `[name] level message {extra}`; other lines pass through with the prefix. */
function formatLine(name: string, line: string): string {
  const prefix = paint('35', `[${name}]`);
  let entry: Record<string, unknown> | undefined;
  if (line.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) entry = parsed as Record<string, unknown>;
    } catch {
      // not JSON after all
    }
  }
  if (!entry) return `${prefix} ${line}`;
  const [label, code] =
    typeof entry.level === 'number' ? (LEVELS[entry.level] ?? [String(entry.level), '0']) : [String(entry.level ?? 'info'), '0'];
  const extra: Record<string, unknown> = {};
  let stack: string | undefined;
  for (const [k, v] of Object.entries(entry)) {
    if (OMIT.has(k)) continue;
    if ((k === 'name' || k === 'service') && v === name.split(':')[0]) continue;
    if ((k === 'err' || k === 'error') && v && typeof v === 'object' && typeof (v as { stack?: unknown }).stack === 'string') {
      const { stack: s, ...rest } = v as { stack: string };
      stack = s;
      if (Object.keys(rest).length) extra[k] = rest;
      continue;
    }
    extra[k] = v;
  }
  let out = `${prefix} ${paint(code, label.padEnd(5))} ${String(entry.msg ?? '')}`;
  if (Object.keys(extra).length) out += ` ${paint('90', JSON.stringify(extra))}`;
  if (stack) out += `\n${stack.replace(/^/gm, '    ')}`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Children
// ---------------------------------------------------------------------------------------------

interface Proc {
  name: string;
  child: ChildProcess;
  recent: string[];
  /** Set for one-shot commands (migrate) and during shutdown: exiting is then not an error. */
  expectExit: boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const procs: Proc[] = [];
let infraStarting: Promise<InfraHandle> | undefined;
let shutdownStarted: Promise<void> | undefined;
let firstSignalAt = 0;

/** Runs a TypeScript entry point through tsx (`node --import tsx`, one process per service). */
function runTs(name: string, entry: string, args: string[], env: NodeJS.ProcessEnv, expectExit: boolean): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: Ctrl-C reaches only this runner, which stops children in order.
    detached: true,
  });
  const recent: string[] = [];
  const onLine = (line: string) => {
    if (!line.trim()) return;
    const formatted = formatLine(name, line);
    console.log(formatted);
    recent.push(formatted);
    if (recent.length > 40) recent.shift();
  };
  readline.createInterface({ input: child.stdout! }).on('line', onLine);
  readline.createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => {
      onLine(`could not start: ${err.message}`);
      resolve({ code: 127, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const proc: Proc = { name, child, recent, expectExit, exited };
  procs.push(proc);
  void exited.then(({ code, signal }) => {
    if (proc.expectExit || shutdownStarted) return;
    console.error(`${paint('31', `[${name}]`)} exited unexpectedly (${signal ?? `code ${code}`})`);
    void shutdown(1);
  });
  return proc;
}

function lastLines(proc: Proc): string {
  return proc.recent.length ? `\nLast output of ${proc.name}:\n${proc.recent.slice(-20).join('\n')}` : '';
}

class StartupAborted extends Error {}

async function migrate(name: string, env: NodeJS.ProcessEnv): Promise<void> {
  const proc = runTs(`${name}:migrate`, `services/${name}/src/main.ts`, ['migrate'], env, true);
  const { code, signal } = await proc.exited;
  procs.splice(procs.indexOf(proc), 1);
  if (shutdownStarted) throw new StartupAborted();
  if (code !== 0) throw new Error(`\`tsx services/${name}/src/main.ts migrate\` failed (${signal ?? `exit code ${code}`})${lastLines(proc)}`);
}

async function waitReady(proc: Proc, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (shutdownStarted) throw new StartupAborted();
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited before it was ready (${proc.child.signalCode ?? `code ${proc.child.exitCode}`})${lastLines(proc)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.status === 200) return;
      lastProblem = `HTTP ${res.status}`;
    } catch (err) {
      lastProblem = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`${proc.name} was not ready within ${READY_TIMEOUT_MS / 1000} s: GET ${url} -> ${lastProblem}${lastLines(proc)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function stopProcs(list: Proc[]): Promise<void> {
  await Promise.all(
    list.map(async (p) => {
      p.expectExit = true;
      await stopChild(p.child, STOP_TIMEOUT_MS);
    }),
  );
}

function shutdown(code: number): Promise<void> {
  shutdownStarted ??= (async () => {
    try {
      const gateway = procs.filter((p) => p.name === 'gateway');
      await stopProcs(gateway);
      await stopProcs(procs.filter((p) => !gateway.includes(p)));
      // If MySQL/NATS are still starting, let them finish so that they can be stopped too.
      const infra = await infraStarting?.catch(() => undefined);
      if (infra) await infra.stop();
    } catch (err) {
      console.error(`[start] error while stopping: ${(err as Error).message}`);
      code = 1;
    }
    say(code === 0 ? 'stopped' : 'stopped after a failure');
    process.exit(code);
  })();
  return shutdownStarted;
}

function onSignal(signal: NodeJS.Signals): void {
  const now = Date.now();
  if (!firstSignalAt) {
    firstSignalAt = now;
    say(`${signal}: stopping the gateway, the services, then local infrastructure...`);
    void shutdown(0);
  } else if (now - firstSignalAt > 1_000) {
    // A second, deliberate Ctrl-C (the first may arrive twice via npm and the terminal).
    say(`${signal} again: killing the gateway and services`);
    for (const p of procs) killSync(p.child);
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
process.on('exit', () => {
  for (const p of procs) killSync(p.child);
});

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function banner(): void {
  const url = `http://localhost:${GATEWAY_PORT}/graphql`;
  const password = process.env.ADMIN_PASSWORD || 'admin-dev-password';
  const login = `mutation { staffLogin(input: {username: "admin", password: ${JSON.stringify(password)}}) { token expiresAt } }`;
  const loginBody = JSON.stringify({ query: login });
  const queryBody = JSON.stringify({ query: '{ members(first: 5) { edges { node { id name phone } } } }' });
  const line = '-'.repeat(78);
  console.log(
    [
      '',
      line,
      `  MemberGraph is running: ${paint('1', url)}`,
      '',
      '  Log in as staff:',
      `    ${login}`,
      '',
      '  With curl:',
      `    TOKEN=$(curl -s ${url} -H 'content-type: application/json' \\`,
      `      -d ${shellQuote(loginBody)} | sed -E 's/.*"token":"([^"]+)".*/\\1/')`,
      `    curl -s ${url} -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`,
      `      -d ${shellQuote(queryBody)}`,
      '',
      '  Ctrl-C stops everything.',
      line,
      '',
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  say('looking for MySQL and NATS...');
  infraStarting = ensureInfra({ dataDir: path.join(root, '.data'), log: (m) => say(m) });
  const infra = await infraStarting;
  if (shutdownStarted) throw new StartupAborted();
  say(`MySQL: ${redact(infra.mysqlUrl)}`);
  say(`NATS:  ${redact(infra.natsUrl)}`);
  const common = { MYSQL_URL: infra.mysqlUrl, NATS_URL: infra.natsUrl };

  for (const s of SERVICES) {
    say(`${s.name}: migrating`);
    await migrate(s.name, { ...common, PORT: String(s.port) });
    say(`${s.name}: starting on port ${s.port}`);
    const proc = runTs(s.name, `services/${s.name}/src/main.ts`, [], { ...common, PORT: String(s.port) }, false);
    await waitReady(proc, `http://127.0.0.1:${s.port}/readyz`);
    say(`${s.name}: ready`);
  }

  const subgraphUrls = Object.fromEntries(
    SERVICES.map((s) => [`${s.name.toUpperCase()}_SUBGRAPH_URL`, `http://127.0.0.1:${s.port}/graphql`]),
  );
  say(`gateway: starting on port ${GATEWAY_PORT}`);
  const gateway = runTs('gateway', 'gateway/src/main.ts', [], { ...common, ...subgraphUrls, GATEWAY_PORT: String(GATEWAY_PORT) }, false);
  await waitReady(gateway, `http://127.0.0.1:${GATEWAY_PORT}/readyz`);
  say('gateway: ready');
  banner();
}

main().catch((err: unknown) => {
  if (err instanceof StartupAborted) return; // a signal arrived during startup; shutdown() is running
  console.error(`${paint('31', '[start] failed:')} ${err instanceof Error ? err.message : String(err)}`);
  void shutdown(1);
});
