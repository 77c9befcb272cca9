import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Registry } from 'prom-client';
import type { Logger } from '../telemetry';

export interface HttpHandlerOptions<C extends BaseContext> {
  apollo: ApolloServer<C>;
  /** Builds the per-request context; may throw a GraphQLError (e.g. a forged token). */
  context: (req: IncomingMessage) => Promise<C>;
  /** Readiness probes (database, NATS...); `/readyz` is 200 only when all pass. */
  ready?: () => Promise<boolean>;
  metrics?: Registry;
  log: Logger;
  /** Extra routes served before GraphQL (return true when handled). */
  routes?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;
  maxBodyBytes?: number;
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw Object.assign(new Error('payload too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An HTTP server serving GraphQL at `/graphql` plus `/healthz`, `/readyz` and `/metrics`. */
export function createHttpServer<C extends BaseContext>(opts: HttpHandlerOptions<C>): Server {
  const limit = opts.maxBodyBytes ?? 5 * 1024 * 1024;
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/healthz') return send(res, 200, 'text/plain', 'ok');
      if (url.pathname === '/readyz') {
        const ok = opts.ready ? await opts.ready().catch(() => false) : true;
        return send(res, ok ? 200 : 503, 'text/plain', ok ? 'ready' : 'not ready');
      }
      if (url.pathname === '/metrics' && opts.metrics) {
        return send(res, 200, opts.metrics.contentType, await opts.metrics.metrics());
      }
      if (opts.routes && (await opts.routes(req, res))) return;
      if (url.pathname !== '/graphql' && url.pathname !== '/') return send(res, 404, 'text/plain', 'not found');

      const headers = new HeaderMap();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const raw = req.method === 'POST' ? await readBody(req, limit) : '';
      let body: unknown = raw;
      if (raw && (headers.get('content-type') ?? '').includes('json')) {
        try {
          body = JSON.parse(raw);
        } catch {
          return send(res, 400, 'application/json', JSON.stringify({ errors: [{ message: 'Malformed JSON body', extensions: { code: 'BAD_REQUEST' } }] }));
        }
      }
      const result = await opts.apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method?.toUpperCase() ?? 'GET', headers, search: url.search, body },
        context: () => opts.context(req),
      });
      for (const [key, value] of result.headers) res.setHeader(key, value);
      res.statusCode = result.status ?? 200;
      if (result.body.kind === 'complete') {
        res.end(result.body.string);
      } else {
        for await (const chunk of result.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } catch (err) {
      const status = (err as { status?: number }).status ?? 500;
      if (status >= 500) opts.log.error({ err }, 'http handler failed');
      if (!res.headersSent) send(res, status, 'text/plain', status === 413 ? 'payload too large' : 'internal error');
      else res.end();
    }
  });
}

function send(res: ServerResponse, status: number, type: string, body: string) {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

/** Listens on `port` (0 = any free port) and resolves to the bound port. */
export function listen(server: Server, port: number, host = '0.0.0.0'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes the server, ending idle keep-alive sockets so shutdown does not hang. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 2000).unref();
  });
}
