import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Bus,
  createEnvelope,
  createLogger,
  dropDatabase,
  durableName,
  encodeEnvelope,
  signToken,
  type EventEnvelope,
  type Principal,
  type Role,
  type StreamDefinition,
} from '@membergraph/platform';

export { memberEvents } from './member-events';

/** Environment variables for an app, as `process.env` holds them. */
export type Env = Record<string, string | undefined>;

/** A short random token naming this test's database and NATS prefix. */
export function testId(): string {
  return randomBytes(4).toString('hex');
}

export const mysqlUrl = () => process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const natsUrl = () => process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** Everything a test file owns: one id for its databases and NATS subjects/streams. */
export interface TestScope {
  id: string;
  prefix: string;
  env(service: string, extra?: Env): Env;
  /** Drops the databases created under this scope and deletes its streams. */
  cleanup(): Promise<void>;
}

export function createTestScope(): TestScope {
  const id = testId();
  const prefix = `t${id}.`;
  const databases = new Set<string>();
  let nats = natsUrl();
  return {
    id,
    prefix,
    env(service, extra = {}) {
      const db = `t_${id}_${service}`;
      databases.add(db);
      if (extra.NATS_URL) nats = extra.NATS_URL;
      return {
        NODE_ENV: 'test',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        HOST: '127.0.0.1',
        PORT: '0',
        MYSQL_URL: mysqlUrl(),
        NATS_URL: natsUrl(),
        NATS_PREFIX: prefix,
        DB_NAME: db,
        ...extra,
      };
    },
    async cleanup() {
      for (const db of databases) await dropDatabase(mysqlUrl(), db).catch(() => undefined);
      const bus = await Bus.connect({ url: nats, prefix, name: 'test-cleanup', log: createLogger('test', 'silent') }).catch(() => null);
      if (bus) {
        await bus.deleteStreams().catch(() => undefined);
        await bus.close();
      }
    },
  };
}

/** What {@link startApp} and {@link serviceUnderTest} need of a service app. */
export interface StartableApp {
  migrate(): Promise<void>;
  start(): Promise<{ port: number; url: string }>;
  stop(): Promise<void>;
}

/** Migrates and starts an app in-process on a free port. */
export async function startApp<A extends StartableApp>(app: A): Promise<A & { url: string; port: number }> {
  await app.migrate();
  const { url, port } = await app.start();
  return Object.assign(app, { url, port });
}

// Tests read responses as loosely as JSON; typed operations would add nothing the assertions do not check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface GqlResult<T = any> {
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string; [k: string]: unknown } }>;
  status: number;
}

/** Posts a GraphQL operation; `token` goes in as a bearer token. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function gql<T = any>(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Omit<GqlResult<T>, 'status'>;
  return { ...body, status: res.status };
}

/** A token for a principal with the given roles, signed with the test secret. */
export async function tokenFor(roles: Role[], opts: Partial<Principal> = {}, secret = process.env.JWT_SECRET): Promise<string> {
  const { token } = await signToken(
    { secret: secret ?? 'membergraph-dev-secret-change-me-0123456789', issuer: 'membergraph' },
    { sub: opts.sub ?? 'test-staff', kind: opts.kind ?? 'staff', roles, scopes: opts.scopes ?? [], name: opts.name },
    3600,
  );
  return token;
}

/** Polls `check` until it returns without throwing, or rethrows its last error at the deadline. */
export async function eventually<T>(check: () => Promise<T> | T, { timeoutMs = 15_000, intervalMs = 100 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/** A bus on a test scope's prefix that plays a stream's producer and watches the consumers of that stream. */
export interface StreamProbe {
  /** The probe's connection, for reading other streams. */
  bus: Bus;
  /** Publishes `envelope` and returns its stream sequence; a `msgID` other than its id gets past JetStream dedupe, as a redelivery would. */
  publish(envelope: EventEnvelope, msgID?: string): Promise<number>;
  /** Resolves once durable consumer `consumer` has acknowledged everything up to stream sequence `seq` (its effects have committed). */
  consumed(consumer: string, seq: number): Promise<void>;
  close(): Promise<void>;
}

/** Connects a {@link StreamProbe} to `stream` under `scope`'s prefix, creating the stream if no producer has yet. */
export async function streamProbe(scope: TestScope, stream: StreamDefinition, opts: { name?: string; url?: string } = {}): Promise<StreamProbe> {
  const bus = await Bus.connect({ url: opts.url ?? natsUrl(), prefix: scope.prefix, name: opts.name ?? 'test-probe', log: createLogger('test', 'silent') });
  const streamName = await bus.ensureStream(stream);
  return {
    bus,
    async publish(envelope, msgID = envelope.id) {
      const ack = await bus.js.publish(bus.subject(envelope.type), encodeEnvelope(envelope), { msgID });
      return ack.seq;
    },
    async consumed(consumer, seq) {
      const durable = durableName(bus, consumer);
      await eventually(async () => {
        const floor = (await bus.jsm.consumers.info(streamName, durable)).ack_floor.stream_seq;
        if (floor < seq) throw new Error(`consumer ${consumer} has acknowledged through ${floor}, not yet ${seq}`);
      });
    },
    close: () => bus.close(),
  };
}

/** A new envelope of `type` about `subject`, as service `source` would publish it. */
export function envelopeFrom<T>(source: string, type: string, subject: string, data: T): EventEnvelope<T> {
  return createEnvelope({ type, source, subject, data });
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} did not open`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** A private nats-server with JetStream on a free port, which a test may stop and start again. */
export async function startNatsServer(): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void>; dispose(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mg-nats-'));
  const bin = process.env.NATS_SERVER_BIN ?? (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server');
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(bin, ['-js', '-sd', dir, '-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    await waitForPort(port, 10_000);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    start,
    stop,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The SQL that would still be needed to make the database match the entities after all
 * migrations ran; empty when the committed migrations are complete.
 */
export async function pendingSchemaChanges(ds: import('typeorm').DataSource): Promise<string[]> {
  const sql = await ds.driver.createSchemaBuilder().log();
  return sql.upQueries.map((q) => q.query);
}

/** A service app started in-process for one test file, with the scope and probe that go with it. */
export interface ServiceUnderTest<A extends StartableApp> {
  /** The running app; readable from inside tests and hooks once `beforeAll` has run. */
  readonly app: A & { url: string; port: number };
  /** The app's GraphQL endpoint. */
  readonly url: string;
  /** The stream probe asked for with `probe`; throws when none was. */
  readonly probe: StreamProbe;
  /** The scope owning the app's database and NATS prefix. */
  readonly scope: TestScope;
}

export interface ServiceUnderTestOptions {
  /** Extra environment for the app, on top of the scope's. */
  env?: Env;
  /** A stream to attach a {@link StreamProbe} to, as its producer. */
  probe?: StreamDefinition;
  /** The probe's NATS connection name (default `test-probe`). */
  probeName?: string;
}

/**
 * Registers `beforeAll`/`afterAll` hooks that start service `name` (migrated, on a free port) under a
 * fresh test scope, optionally with a probe on a stream, and stop it and clean up after the file.
 */
export function serviceUnderTest<A extends StartableApp>(
  name: string,
  createApp: (env: Env) => A,
  opts: ServiceUnderTestOptions = {},
): ServiceUnderTest<A> {
  const scope = createTestScope();
  let app: (A & { url: string; port: number }) | undefined;
  let probe: StreamProbe | undefined;

  beforeAll(async () => {
    app = await startApp(createApp(scope.env(name, opts.env)));
    if (opts.probe) probe = await streamProbe(scope, opts.probe, { name: opts.probeName });
  });
  afterAll(async () => {
    await probe?.close();
    await app?.stop();
    await scope.cleanup();
  });

  const started = () => {
    if (!app) throw new Error(`${name} is not started: read it inside a test or a hook`);
    return app;
  };
  return {
    get app() {
      return started();
    },
    get url() {
      return started().url;
    },
    get probe() {
      if (!probe) throw new Error(opts.probe ? `the ${name} probe is not connected yet` : `${name} was set up without a probe`);
      return probe;
    },
    scope,
  };
}

/** Registers the `schema` test: after all migrations ran, the entities need no further DDL. */
export function itHasCompleteMigrations(service: ServiceUnderTest<StartableApp & { kit: { ds: import('typeorm').DataSource } }>): void {
  describe('schema', () => {
    it('is fully described by the committed migrations', async () => {
      expect(await pendingSchemaChanges(service.app.kit.ds)).toEqual([]);
    });
  });
}
