/**
 * Local infrastructure for `npm start` and `npm test`: find or start MySQL/MariaDB and NATS JetStream.
 *
 * Order, for MySQL and NATS separately:
 *   (a) MYSQL_URL / NATS_URL from the environment, used as is;
 *   (b) a server already listening on 127.0.0.1:3306 / 127.0.0.1:4222;
 *   (c) a child process started here, with its data under `<dataDir>/mysql` / `<dataDir>/nats`, on a free port.
 *
 * A server started by an earlier run that is still alive (its parent was killed) is reused instead of
 * starting a second server on the same data directory; it is then not ours to stop.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export type Log = (msg: string) => void;

export interface InfraHandle {
  mysqlUrl: string;
  natsUrl: string;
  /** Stops only the child processes started by this call. */
  stop(): Promise<void>;
}

export interface LocalServer {
  url: string;
  port: number;
  /** The child process, or null when an already running server from an earlier run was reused. */
  child: ChildProcess | null;
  /** Last lines of the server's log file (`<dataDir>/mysql.log` or `<dataDir>/nats.log`). */
  logs(): string[];
  stop(): Promise<void>;
}

export interface StartLocalOptions {
  dataDir: string;
  port?: number;
  log?: Log;
  /** How long to wait for the server to accept connections (default 60 s). */
  startTimeoutMs?: number;
}

const INSTALL_HINT =
  'Install it (Debian/Ubuntu: `apt-get install mariadb-server nats-server`; macOS: `brew install mariadb nats-server`) ' +
  'or point MYSQL_URL / NATS_URL at running servers (e.g. MYSQL_URL=mysql://root@127.0.0.1:3306 NATS_URL=nats://127.0.0.1:4222).';

const EXTRA_BIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin', '/opt/homebrew/bin', '/opt/homebrew/sbin'];

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves true when a TCP connection to host:port succeeds within timeoutMs. */
export function tcpProbe(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Waits until host:port accepts TCP connections; rejects after timeoutMs. */
export async function waitForTcp(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await tcpProbe(host, port, Math.min(1000, Math.max(100, deadline - Date.now())))) return;
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${host}:${port} to accept connections`);
    await sleep(150);
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('Could not allocate a free port'))));
    });
  });
}

/** First executable among `names`, looked up on PATH and in the usual sbin directories. */
export function findBinary(names: string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/** The last `max` non-empty lines of a (log) file. */
function tailFile(file: string, max = 40): string[] {
  try {
    const stat = fs.statSync(file);
    const len = Math.min(stat.size, 64 * 1024);
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, stat.size - len);
      return buf.toString('utf8').split('\n').filter((l) => l.trim()).slice(-max);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends SIGTERM, waits up to timeoutMs for the exit, then SIGKILL. */
export async function stopChild(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(timeoutMs).then(() => true)]);
  if (timedOut) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(5_000)]);
  }
}

interface StateFile {
  pid: number;
  port: number;
  dir: string;
}

function readState(file: string): StateFile | undefined {
  try {
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as StateFile;
    return Number.isInteger(state.pid) && Number.isInteger(state.port) ? state : undefined;
  } catch {
    return undefined;
  }
}

/** A server of ours from an earlier run that still runs on the same data directory, if any. */
async function leftoverServer(stateFile: string, dir: string): Promise<StateFile | undefined> {
  const state = readState(stateFile);
  if (!state) return undefined;
  let ours = pidAlive(state.pid);
  if (ours && fs.existsSync(`/proc/${state.pid}/cmdline`)) {
    try {
      ours = fs.readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').includes(dir);
    } catch {
      ours = false;
    }
  }
  if (ours && (await tcpProbe('127.0.0.1', state.port, 1000))) return state;
  fs.rmSync(stateFile, { force: true });
  return undefined;
}

interface SpawnServerOptions {
  name: string;
  command: string;
  args: string[];
  port: number;
  url: string;
  stateFile: string;
  logFile: string;
  dir: string;
  log: Log;
  startTimeoutMs: number;
  ready: (port: number) => Promise<boolean>;
  stopTimeoutMs: number;
}

async function spawnServer(o: SpawnServerOptions): Promise<LocalServer> {
  // Output goes to a log file (not a pipe), so a server outliving a crashed runner keeps working.
  fs.appendFileSync(o.logFile, `\n--- ${new Date().toISOString()} ${o.command} ${o.args.join(' ')}\n`);
  const out = fs.openSync(o.logFile, 'a');
  // Own process group: a Ctrl-C in the terminal reaches only our runner, which stops servers last.
  let child: ChildProcess;
  try {
    child = spawn(o.command, o.args, { stdio: ['ignore', out, out], detached: true });
  } finally {
    fs.closeSync(out);
  }
  const logs = () => tailFile(o.logFile);
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));

  const failure = (why: string) =>
    new Error(`${o.name} (${o.command}) ${why}. Last lines of ${o.logFile}:\n  ${logs().slice(-25).join('\n  ') || '(none)'}`);

  const deadline = Date.now() + o.startTimeoutMs;
  for (;;) {
    if (spawnError) throw failure(`could not be started: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw failure(`exited during startup (code ${child.exitCode ?? child.signalCode})`);
    }
    if (await o.ready(o.port)) break;
    if (Date.now() > deadline) {
      await stopChild(child, 5_000);
      throw failure(`did not accept connections on 127.0.0.1:${o.port} within ${o.startTimeoutMs} ms`);
    }
    await sleep(200);
  }

  const pid = child.pid;
  if (pid === undefined) throw failure('has no process id');
  fs.writeFileSync(o.stateFile, JSON.stringify({ pid, port: o.port, dir: o.dir } satisfies StateFile));
  o.log(`started ${o.name} (pid ${pid}) on 127.0.0.1:${o.port}, data in ${o.dir}`);
  let stopping: Promise<void> | undefined;
  return {
    url: o.url,
    port: o.port,
    child,
    logs,
    stop: () =>
      (stopping ??= (async () => {
        await stopChild(child, o.stopTimeoutMs);
        fs.rmSync(o.stateFile, { force: true });
        o.log(`stopped ${o.name}`);
      })()),
  };
}

function reused(name: string, url: string, state: StateFile, log: Log): LocalServer {
  log(`reusing ${name} left running by an earlier run (pid ${state.pid}, port ${state.port}); stop it with \`kill ${state.pid}\``);
  return { url, port: state.port, child: null, logs: () => [], stop: async () => {} };
}

// ---------------------------------------------------------------------------------------------
// MySQL / MariaDB
// ---------------------------------------------------------------------------------------------

/**
 * True when the server at port sends a MySQL protocol v10 greeting (not an error packet such as
 * "Host is blocked" or "server is starting").
 */
export function mysqlGreets(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const done = (ok: boolean) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      // packet header: 3 bytes length, 1 byte sequence; then the payload's first byte.
      if (buf.length >= 5) done(buf[4] === 0x0a);
    });
    socket.once('end', () => done(false));
  });
}

interface MysqlFlavour {
  server: string;
  mariadb: boolean;
  installDb?: string;
}

async function detectMysql(): Promise<MysqlFlavour> {
  const mariadbd = findBinary(['mariadbd']);
  if (mariadbd) {
    const installDb = findBinary(['mariadb-install-db', 'mysql_install_db']);
    if (!installDb) throw new Error(`Found ${mariadbd} but not mariadb-install-db. ${INSTALL_HINT}`);
    return { server: mariadbd, mariadb: true, installDb };
  }
  const mysqld = findBinary(['mysqld']);
  if (!mysqld) {
    throw new Error(`No MySQL/MariaDB server binary (mariadbd or mysqld) found on PATH or in /usr/sbin, /usr/local/sbin. ${INSTALL_HINT}`);
  }
  let version = '';
  try {
    version = (await execFileAsync(mysqld, ['--version'])).stdout;
  } catch {
    // keep empty: treat as MySQL
  }
  if (/mariadb/i.test(version)) {
    const installDb = findBinary(['mariadb-install-db', 'mysql_install_db']);
    if (!installDb) throw new Error(`Found ${mysqld} (MariaDB) but not mariadb-install-db. ${INSTALL_HINT}`);
    return { server: mysqld, mariadb: true, installDb };
  }
  return { server: mysqld, mariadb: false };
}

/** Starts a MariaDB/MySQL child process with its data under `<dataDir>/mysql` (initialised on first use). */
export async function startLocalMysql(opts: StartLocalOptions): Promise<LocalServer> {
  const log = opts.log ?? (() => {});
  const dataDir = path.resolve(opts.dataDir);
  const dir = path.join(dataDir, 'mysql');
  const stateFile = path.join(dataDir, 'mysql.state.json');
  const marker = path.join(dataDir, 'mysql.initialized');
  fs.mkdirSync(dataDir, { recursive: true });

  const leftover = await leftoverServer(stateFile, dir);
  if (leftover) return reused('MySQL', `mysql://root@127.0.0.1:${leftover.port}`, leftover, log);

  const flavour = await detectMysql();
  const user = currentUser();

  if (!fs.existsSync(marker)) {
    // A previous initialisation may have been interrupted: start from an empty directory.
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    log(`initialising ${flavour.mariadb ? 'MariaDB' : 'MySQL'} data directory ${dir}`);
    const [cmd, args] = flavour.mariadb
      ? [
          flavour.installDb!,
          ['--no-defaults', `--datadir=${dir}`, '--auth-root-authentication-method=normal', `--user=${user}`, '--skip-test-db'],
        ]
      : [flavour.server, ['--no-defaults', '--initialize-insecure', `--datadir=${dir}`, `--user=${user}`]];
    try {
      await execFileAsync(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`Initialising ${dir} with ${cmd} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
    fs.writeFileSync(marker, `${new Date().toISOString()} ${cmd}\n`);
  }

  const port = opts.port ?? (await freePort());
  const args = [
    '--no-defaults',
    `--datadir=${dir}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${path.join(dataDir, 'mysql.sock')}`,
    `--pid-file=${path.join(dataDir, 'mysql.pid')}`,
    `--user=${user}`,
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    '--max-connections=500',
  ];
  if (!flavour.mariadb) args.push('--mysqlx=OFF');
  return spawnServer({
    name: flavour.mariadb ? 'MariaDB' : 'MySQL',
    command: flavour.server,
    args,
    port,
    url: `mysql://root@127.0.0.1:${port}`,
    stateFile,
    logFile: path.join(dataDir, 'mysql.log'),
    dir,
    log,
    startTimeoutMs: opts.startTimeoutMs ?? 60_000,
    stopTimeoutMs: 30_000,
    ready: (p) => mysqlGreets('127.0.0.1', p),
  });
}

// ---------------------------------------------------------------------------------------------
// NATS
// ---------------------------------------------------------------------------------------------

/** True when the server at port sends a NATS INFO line announcing JetStream. */
export function natsGreets(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let text = '';
    const done = (ok: boolean) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) done(text.startsWith('INFO ') && text.includes('"jetstream":true'));
    });
    socket.once('end', () => done(false));
  });
}

/** Starts nats-server with JetStream, storing under `<dataDir>/nats`. */
export async function startLocalNats(opts: StartLocalOptions): Promise<LocalServer> {
  const log = opts.log ?? (() => {});
  const dataDir = path.resolve(opts.dataDir);
  const dir = path.join(dataDir, 'nats');
  const stateFile = path.join(dataDir, 'nats.state.json');
  fs.mkdirSync(dir, { recursive: true });

  const leftover = await leftoverServer(stateFile, dir);
  if (leftover) return reused('nats-server', `nats://127.0.0.1:${leftover.port}`, leftover, log);

  const server = findBinary(['nats-server']);
  if (!server) throw new Error(`No nats-server binary found on PATH or in /usr/sbin, /usr/local/sbin. ${INSTALL_HINT}`);
  const port = opts.port ?? (await freePort());
  return spawnServer({
    name: 'nats-server',
    command: server,
    args: ['-js', '-sd', dir, '-a', '127.0.0.1', '-p', String(port)],
    port,
    url: `nats://127.0.0.1:${port}`,
    stateFile,
    logFile: path.join(dataDir, 'nats.log'),
    dir,
    log,
    startTimeoutMs: opts.startTimeoutMs ?? 30_000,
    stopTimeoutMs: 10_000,
    ready: (p) => natsGreets('127.0.0.1', p),
  });
}

// ---------------------------------------------------------------------------------------------
// ensureInfra
// ---------------------------------------------------------------------------------------------

/** The URL with its password hidden, for logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

export async function ensureInfra(opts: { dataDir: string; log?: Log }): Promise<InfraHandle> {
  const log = opts.log ?? (() => {});
  const started: LocalServer[] = [];
  const stopAll = async () => {
    // NATS first (clients drain quickly), MySQL last.
    for (const s of [...started].reverse()) await s.stop().catch((err: Error) => log(`stopping failed: ${err.message}`));
  };

  try {
    // For each server: the URL from the environment, else the one listening on its standard port,
    // else one started here.
    const resolve = async (name: string, envVar: 'MYSQL_URL' | 'NATS_URL', port: number, standardUrl: string, startLocal: () => Promise<LocalServer>) => {
      const envUrl = process.env[envVar];
      if (envUrl) {
        log(`${name}: using ${envVar} ${redact(envUrl)}`);
        return envUrl;
      }
      if (await tcpProbe('127.0.0.1', port)) {
        log(`${name}: using the server listening on 127.0.0.1:${port}`);
        return standardUrl;
      }
      const s = await startLocal();
      if (s.child) started.push(s);
      log(`${name}: using local server ${s.url}`);
      return s.url;
    };
    const mysqlUrl = await resolve('MySQL', 'MYSQL_URL', 3306, 'mysql://root@127.0.0.1:3306', () => startLocalMysql({ dataDir: opts.dataDir, log }));
    const natsUrl = await resolve('NATS', 'NATS_URL', 4222, 'nats://127.0.0.1:4222', () => startLocalNats({ dataDir: opts.dataDir, log }));

    let stopping: Promise<void> | undefined;
    return { mysqlUrl, natsUrl, stop: () => (stopping ??= stopAll()) };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Last-resort synchronous kill of a child that is still running (e.g. from a process 'exit' handler). */
export function killSync(child: ChildProcess | null | undefined): void {
  if (child && child.exitCode === null && child.signalCode === null) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
