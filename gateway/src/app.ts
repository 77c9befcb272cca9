import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Agent } from 'undici';
import { principalFromHeader, type RequestContext, type TokenSettings } from '@membergraph/platform/auth';
import { createErrorFormatter } from '@membergraph/platform/graphql/format-error';
import { close, createHttpServer, listen } from '@membergraph/platform/graphql/http';
import { newId } from '@membergraph/platform/ids';
import { createLogger, createMetrics, currentTraceparent, type Logger, type Metrics } from '@membergraph/platform/telemetry';
import { subgraphUrlOverrides, type GatewayConfig } from './config';
import { createSubgraphAgent, createUndiciFetcher, type Fetcher } from './fetcher';
import { queryLimitsRule } from './limits';

/** What every gateway request carries; the subgraph data sources forward parts of it. */
export interface GatewayContext extends RequestContext {
  /** The verified `Authorization` header, forwarded as is (subgraphs verify it again). */
  authorization?: string;
  tracestate?: string;
  /** Incoming X-Forwarded-For plus the peer address, so subgraphs can throttle per client IP (OTP, login). */
  forwardedFor?: string;
}

export interface GatewayOptions {
  /** Use this supergraph instead of reading `config.SUPERGRAPH_PATH` (tests). */
  supergraphSdl?: string;
  log?: Logger;
}

export interface Gateway {
  start(): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Extension codes a subgraph uses for failures it did not mean for the caller. */
const UNTRUSTED_SUBGRAPH_CODES = new Set([
  'INTERNAL_SERVER_ERROR',
  'DOWNSTREAM_SERVICE_ERROR',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
]);

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * One subgraph: the shared keep-alive fetcher, identity and trace headers forwarded, and error
 * responses (non-2xx) turned into errors that keep the subgraph's own message and code.
 */
class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    readonly name: string,
    url: string,
    fetcher: Fetcher,
  ) {
    super({ url, fetcher });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http?.headers;
    // Health checks and schema loading run without a request context.
    if (!headers || !context?.requestId) return;
    headers.set('x-request-id', context.requestId);
    if (context.authorization) headers.set('authorization', context.authorization);
    if (context.forwardedFor) headers.set('x-forwarded-for', context.forwardedFor);
    // With tracing on, the undici instrumentation injects the gateway's own child span context;
    // setting it here as well would send the header twice.
    if (context.traceparent && !currentTraceparent()) {
      headers.set('traceparent', context.traceparent);
      if (context.tracestate) headers.set('tracestate', context.tracestate);
    }
  }

  override async errorFromResponse(response: Awaited<ReturnType<Fetcher>>): Promise<GraphQLError> {
    const body = (await this.parseBody(response).catch(() => undefined)) as
      | { errors?: Array<{ message?: unknown; extensions?: Record<string, unknown> }> }
      | string
      | undefined;
    const first = typeof body === 'object' && Array.isArray(body?.errors) ? body.errors[0] : undefined;
    if (first && typeof first.message === 'string' && typeof first.extensions?.code === 'string') {
      return new GraphQLError(first.message, { extensions: { ...first.extensions, serviceName: this.name } });
    }
    const code = response.status === 401 ? 'UNAUTHENTICATED' : response.status === 403 ? 'FORBIDDEN' : undefined;
    return new GraphQLError(`${response.status}: ${response.statusText}`, {
      extensions: { ...(code ? { code } : {}), serviceName: this.name, response: { status: response.status } },
    });
  }
}

/**
 * The platform formatter (business codes kept, the rest hidden and logged), plus: an error a
 * subgraph sent back keeps its message and code, because the subgraph's own formatter already
 * decided it was fit for the caller. Subgraph failures without a code (connection refused,
 * non-JSON answers, INTERNAL_SERVER_ERROR) are still hidden.
 */
export function createGatewayErrorFormatter(log: Logger) {
  const base = createErrorFormatter(log);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const ext = formatted.extensions ?? {};
    const code = ext.code;
    if (typeof ext.serviceName === 'string' && typeof code === 'string' && !UNTRUSTED_SUBGRAPH_CODES.has(code)) {
      const { stacktrace: _s, exception: _e, response: _r, ...extensions } = ext;
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions };
    }
    return base(formatted, error);
  };
}

/** Observes every operation in `graphql_request_duration_seconds` and echoes x-request-id. */
function observabilityPlugin(metrics: Metrics): ApolloServerPlugin<GatewayContext> {
  const MAX_OPERATION_LABELS = 500;
  const seen = new Set<string>();
  const label = (name: string | null | undefined) => {
    if (!name) return 'anonymous';
    if (seen.has(name)) return name;
    if (seen.size >= MAX_OPERATION_LABELS || name.length > 100) return 'other';
    seen.add(name);
    return name;
  };
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ response, contextValue, operation, operationName, errors }) {
          response.http.headers.set('x-request-id', contextValue.requestId);
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          // Only operations that parsed and validated get their own label (bounded label set).
          metrics.graphqlRequests.observe(
            { operation: operation ? label(operationName) : 'invalid', outcome: errors?.length ? 'error' : 'ok' },
            seconds,
          );
        },
      };
    },
  };
}

/** The federated gateway: Apollo Server 5 + @apollo/gateway over a build-time supergraph. */
export function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Gateway {
  const log = options.log ?? createLogger('gateway', config.LOG_LEVEL);
  const metrics = createMetrics('gateway');
  const tokens: TokenSettings = { secret: config.JWT_SECRET, issuer: config.JWT_ISSUER };
  const production = config.NODE_ENV === 'production';
  const urlOverrides: Record<string, string | undefined> = subgraphUrlOverrides(config);

  // @apollo/gateway reports anonymous usage metrics to Apollo unless this is set (read in its constructor).
  if (!config.APOLLO_TELEMETRY) process.env.APOLLO_TELEMETRY_DISABLED = 'true';

  let agent: Agent | undefined;
  let server: Server | undefined;
  let apollo: ApolloServer<GatewayContext> | undefined;
  let loaded = false;
  let stopping = false;

  async function context(req: IncomingMessage): Promise<GatewayContext> {
    const incomingId = header(req, 'x-request-id');
    const requestId = incomingId && REQUEST_ID.test(incomingId) ? incomingId : newId();
    const authorization = header(req, 'authorization');
    let principal;
    try {
      principal = await principalFromHeader(tokens, authorization);
    } catch (err) {
      const message = err instanceof GraphQLError ? err.message : 'Invalid token';
      throw new GraphQLError(message, {
        extensions: {
          code: 'UNAUTHENTICATED',
          http: { status: 401, headers: new HeaderMap([['www-authenticate', 'Bearer error="invalid_token"'], ['x-request-id', requestId]]) },
        },
      });
    }
    return {
      principal,
      requestId,
      authorization: principal ? authorization : undefined,
      traceparent: header(req, 'traceparent'),
      tracestate: header(req, 'tracestate'),
      forwardedFor: [header(req, 'x-forwarded-for'), req.socket.remoteAddress].filter(Boolean).join(', ') || undefined,
    };
  }

  return {
    async start() {
      if (server) throw new Error('gateway already started');
      stopping = false;
      const supergraphSdl = options.supergraphSdl ?? readFileSync(config.SUPERGRAPH_PATH, 'utf8');
      agent = createSubgraphAgent({
        connections: config.SUBGRAPH_CONNECTIONS,
        keepAliveTimeout: config.SUBGRAPH_KEEPALIVE_MS,
        timeout: config.SUBGRAPH_TIMEOUT_MS,
      });
      const fetcher = createUndiciFetcher(agent);
      const gateway = new ApolloGateway({
        supergraphSdl,
        logger: log.child({ component: 'apollo-gateway' }),
        buildService: ({ name, url }) => {
          const target = urlOverrides[name] ?? url;
          if (!target) throw new Error(`No URL for subgraph "${name}": set ${name.toUpperCase()}_SUBGRAPH_URL`);
          log.info({ subgraph: name, url: target }, 'subgraph');
          return new SubgraphDataSource(name, target, fetcher);
        },
      });
      apollo = new ApolloServer<GatewayContext>({
        gateway,
        introspection: !production,
        hideSchemaDetailsFromClientErrors: production,
        includeStacktraceInErrorResponses: false,
        parseOptions: { maxTokens: config.MAX_QUERY_TOKENS },
        validationRules: [queryLimitsRule({ maxDepth: config.MAX_QUERY_DEPTH, maxAliases: config.MAX_QUERY_ALIASES })],
        formatError: createGatewayErrorFormatter(log),
        logger: log.child({ component: 'apollo-server' }),
        plugins: [observabilityPlugin(metrics)],
        // main.ts owns SIGTERM/SIGINT (Apollo's own handlers would re-raise the signal and skip our shutdown).
        stopOnTerminationSignals: false,
      });
      await apollo.start();
      loaded = true;

      server = createHttpServer<GatewayContext>({
        apollo,
        context,
        ready: async () => loaded && !stopping,
        metrics: metrics.registry,
        log,
        maxBodyBytes: config.MAX_BODY_BYTES,
      });
      const port = await listen(server, config.GATEWAY_PORT, config.HOST);
      const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/graphql`;
      log.info({ url }, 'gateway listening');
      return { url, port };
    },

    async stop() {
      stopping = true;
      if (server) await close(server);
      server = undefined;
      if (apollo) await apollo.stop();
      apollo = undefined;
      loaded = false;
      if (agent) await agent.close();
      agent = undefined;
    },
  };
}
