import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap';
import { Kind, parse, type DocumentNode } from 'graphql';
import type { DataSource, EntityManager, EntitySchema, MigrationInterface } from 'typeorm';
import type { BaseConfig } from './config';
import { createDataSource, ensureDatabase, unitOfWork } from './db';
import { principalFromHeader, type RequestContext, type TokenSettings } from './auth';
import { newId } from './ids';
import { Bus } from './events/bus';
import { OutboxRelay } from './events/relay';
import { ConsumerRunner, type ConsumerDefinition } from './events/consumer';
import { enqueueEvent, enqueueEvents } from './events/outbox';
import type { EventEnvelope } from './events/envelope';
import { DLQ_STREAM, type StreamDefinition } from './events/streams';
import { eventTables } from './events/tables';
import { createErrorFormatter } from './graphql/format-error';
import { close, createHttpServer, listen } from './graphql/http';
import { DateTimeScalar, FenScalar } from './graphql/scalars';
import { createLogger, createMetrics, type Logger, type Metrics } from './telemetry';

/** The settings createService needs from a service's config. */
export type ServiceConfig = BaseConfig & { PORT: number; DB_NAME: string; DB_POOL_SIZE?: number; CONSUMER_CONCURRENCY?: number; CONSUMER_BATCH?: number };

/** What resolvers receive as GraphQL context. */
export type ServiceContext<L = object> = RequestContext & { loaders: L };

/** The wiring a service's code reaches through: database, bus, unit of work, publishing. */
export interface ServiceKit<C extends ServiceConfig = ServiceConfig> {
  name: string;
  config: C;
  ds: DataSource;
  log: Logger;
  metrics: Metrics;
  tokens: TokenSettings;
  /** The NATS bus; available once the service has started. */
  readonly bus: Bus;
  /** Runs `work` in a retried transaction and wakes the outbox relay after commit. */
  uow<T>(work: (em: EntityManager) => Promise<T>): Promise<T>;
  /** Writes an event from this service to the outbox in the caller's transaction. */
  publish<T>(em: EntityManager, type: string, subject: string, data: T): Promise<EventEnvelope<T>>;
  /** Writes several events from this service to the outbox in one INSERT, in the caller's transaction. */
  publishMany<T>(em: EntityManager, events: Array<{ type: string; subject: string; data: T }>): Promise<Array<EventEnvelope<T>>>;
}

export interface ServiceModule<C extends ServiceConfig, L = object> {
  name: string;
  /** The stream this service produces into, if it publishes events. */
  stream?: StreamDefinition;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entity has its own row type
  entities: EntitySchema<any>[];
  migrations: Array<new () => MigrationInterface>;
  typeDefs: DocumentNode;
  /** Resolvers typed by the service's generated `Resolvers` (graphql-codegen). */
  resolvers: (kit: ServiceKit<C>) => object;
  consumers?: (kit: ServiceKit<C>) => ConsumerDefinition[];
  loaders?: (kit: ServiceKit<C>) => L;
  /** Idempotent seeding run at every start (bootstrap admin, default templates...). */
  onStart?: (kit: ServiceKit<C>) => Promise<void>;
  /**
   * Extra HTTP routes beside /graphql (CSV exports...): return true when the request was handled.
   * They must authenticate themselves (`principalFromHeader` with `kit.tokens`).
   */
  routes?: (kit: ServiceKit<C>) => (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** Background loops (recovery, sweepers): started once the service is up, stopped first. */
  workers?: (kit: ServiceKit<C>) => Worker[];
}

/** A background loop owned by a service. */
export interface Worker {
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

export interface ServiceApp<C extends ServiceConfig> {
  kit: ServiceKit<C>;
  /** Creates the database if missing and runs pending migrations. */
  migrate(): Promise<void>;
  start(): Promise<{ port: number; url: string }>;
  stop(): Promise<void>;
}

/** Reads a schema.graphql file next to the service. */
export function loadTypeDefs(path: string | URL): DocumentNode {
  return parse(readFileSync(path, 'utf8'));
}

/**
 * The gateway appends the address it was called from to X-Forwarded-For, so only the LAST entry
 * is trustworthy (earlier ones come from the client and can be forged).
 */
export function clientIp(req: IncomingMessage): string | undefined {
  const xff = req.headers['x-forwarded-for'];
  const last = (Array.isArray(xff) ? xff.join(',') : (xff ?? '')).split(',').map((s) => s.trim()).filter(Boolean).at(-1);
  return last ?? req.socket.remoteAddress ?? undefined;
}

const SCALARS = { DateTime: DateTimeScalar, Fen: FenScalar } as const;

function declaredScalars(typeDefs: DocumentNode) {
  const out: Record<string, unknown> = {};
  for (const def of typeDefs.definitions) {
    if (def.kind === Kind.SCALAR_TYPE_DEFINITION && def.name.value in SCALARS) {
      out[def.name.value] = SCALARS[def.name.value as keyof typeof SCALARS];
    }
  }
  return out;
}

function metricsPlugin(metrics: Metrics): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const end = metrics.graphqlRequests.startTimer();
      return {
        async willSendResponse(rc) {
          end({ operation: rc.operationName ?? 'anonymous', outcome: rc.errors?.length ? 'error' : 'ok' });
        },
      };
    },
  };
}

/** Wires a subgraph: DataSource, NATS, outbox relay, consumers and the GraphQL HTTP server. */
export function createService<C extends ServiceConfig, L = object>(module: ServiceModule<C, L>, config: C): ServiceApp<C> {
  const log = createLogger(module.name, config.LOG_LEVEL);
  const metrics = createMetrics(module.name);
  const tokens: TokenSettings = { secret: config.JWT_SECRET, issuer: config.JWT_ISSUER };
  let ds = createDataSource({
    serverUrl: config.MYSQL_URL,
    database: config.DB_NAME,
    entities: [...eventTables, ...module.entities],
    migrations: module.migrations,
    poolSize: config.DB_POOL_SIZE,
  });
  let bus: Bus | undefined;
  let relay: OutboxRelay | undefined;
  let runners: ConsumerRunner[] = [];
  let workers: Worker[] = [];
  let apollo: ApolloServer<ServiceContext<L>> | undefined;
  let http: Server | undefined;

  const kit: ServiceKit<C> = {
    name: module.name,
    config,
    get ds() {
      return ds;
    },
    log,
    metrics,
    tokens,
    get bus() {
      if (!bus) throw new Error(`${module.name}: bus used before start()`);
      return bus;
    },
    async uow(work) {
      const result = await unitOfWork(ds, work);
      relay?.notify();
      return result;
    },
    publish(em, type, subject, data) {
      return enqueueEvent(em, { type, subject, data, source: module.name });
    },
    publishMany(em, events) {
      return enqueueEvents(em, events.map((e) => ({ ...e, source: module.name })));
    },
  };

  async function initDataSource() {
    if (ds.isInitialized) return;
    const { mariadb } = await ensureDatabase(config.MYSQL_URL, config.DB_NAME);
    if (!mariadb) {
      ds = createDataSource({
        serverUrl: config.MYSQL_URL,
        database: config.DB_NAME,
        entities: [...eventTables, ...module.entities],
        migrations: module.migrations,
        poolSize: config.DB_POOL_SIZE,
        mariadb: false,
      });
    }
    await ds.initialize();
  }

  async function buildContext(req: IncomingMessage): Promise<ServiceContext<L>> {
    const principal = await principalFromHeader(tokens, req.headers.authorization);
    const requestId = String(req.headers['x-request-id'] ?? newId());
    return {
      principal,
      requestId,
      traceparent: req.headers.traceparent as string | undefined,
      clientIp: clientIp(req),
      loaders: module.loaders ? module.loaders(kit) : ({} as L),
    };
  }

  return {
    kit,
    async migrate() {
      await initDataSource();
      const ran = await ds.runMigrations({ transaction: 'each' });
      if (ran.length) log.info({ migrations: ran.map((m) => m.name) }, 'migrations applied');
    },
    async start() {
      await initDataSource();
      // Serving on an old schema fails later and obscurely: refuse now and say what to run.
      if (await ds.showMigrations()) {
        throw new Error(`${module.name}: database ${config.DB_NAME} has pending migrations; run \`main.ts migrate\` first`);
      }
      bus = await Bus.connect({ url: config.NATS_URL, prefix: config.NATS_PREFIX, name: module.name, log });
      if (module.stream) await bus.ensureStream(module.stream);
      await bus.ensureStream(DLQ_STREAM);
      await module.onStart?.(kit);
      relay = new OutboxRelay(ds, bus, log, metrics);
      relay.start();
      runners = (module.consumers?.(kit) ?? []).map((def) => new ConsumerRunner({ concurrency: config.CONSUMER_CONCURRENCY, batchSize: config.CONSUMER_BATCH, ...def }, bus!, ds, log, metrics, () => relay?.notify()));
      for (const runner of runners) await runner.start();

      const schema = buildSubgraphSchema({
        typeDefs: module.typeDefs,
        resolvers: { ...declaredScalars(module.typeDefs), ...module.resolvers(kit) } as GraphQLResolverMap<unknown>,
      });
      apollo = new ApolloServer<ServiceContext<L>>({
        schema,
        introspection: config.NODE_ENV !== 'production',
        includeStacktraceInErrorResponses: false,
        formatError: createErrorFormatter(log),
        // Inline traces are only for Apollo's hosted studio; they cost time on every request.
        plugins: [metricsPlugin(metrics), ApolloServerPluginInlineTraceDisabled()],
        // runMain owns SIGTERM/SIGINT so the relay and consumers stop in order.
        stopOnTerminationSignals: false,
      });
      await apollo.start();
      http = createHttpServer({
        apollo,
        context: buildContext,
        log,
        metrics: metrics.registry,
        routes: module.routes?.(kit),
        ready: async () => {
          await ds.query('SELECT 1');
          return !bus!.nc.isClosed();
        },
      });
      const port = await listen(http, config.PORT, config.HOST);
      workers = module.workers?.(kit) ?? [];
      for (const worker of workers) await worker.start();
      const url = `http://127.0.0.1:${port}/graphql`;
      log.info({ url }, `${module.name} subgraph ready`);
      return { port, url };
    },
    async stop() {
      for (const worker of workers) await worker.stop();
      workers = [];
      if (http) await close(http);
      await apollo?.stop();
      for (const runner of runners) await runner.stop();
      await relay?.stop();
      await bus?.close();
      if (ds.isInitialized) await ds.destroy();
      http = undefined;
      apollo = undefined;
      relay = undefined;
      bus = undefined;
      runners = [];
    },
  };
}
