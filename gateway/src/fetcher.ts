import { STATUS_CODES } from 'node:http';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { Agent, request } from 'undici';

/** The fetch-like function RemoteGraphQLDataSource calls (types derived, not imported from a transitive package). */
export type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetcherResponse = Awaited<ReturnType<Fetcher>>;
type FetcherHeaders = FetcherResponse['headers'];
type BodyMixin = Awaited<ReturnType<typeof request>>['body'];

export interface SubgraphAgentOptions {
  /** Sockets per subgraph origin. */
  connections: number;
  /** Idle keep-alive time when the subgraph sends no `Keep-Alive: timeout=` hint. */
  keepAliveTimeout: number;
  /** Time allowed for response headers and, separately, for the body. */
  timeout: number;
}

/** One keep-alive pool per subgraph origin (undici Agent), shared by every subgraph data source. */
export function createSubgraphAgent(opts: SubgraphAgentOptions): Agent {
  return new Agent({
    connections: opts.connections,
    keepAliveTimeout: opts.keepAliveTimeout,
    keepAliveMaxTimeout: Math.max(opts.keepAliveTimeout, 60_000),
    headersTimeout: opts.timeout,
    bodyTimeout: opts.timeout,
    pipelining: 1,
  });
}

/** Case-insensitive response headers, enough for RemoteGraphQLDataSource (content-type, cache-control). */
class ResponseHeaders implements FetcherHeaders {
  private readonly map = new Map<string, string>();

  constructor(raw: Record<string, string | string[] | undefined>) {
    for (const [name, value] of Object.entries(raw)) {
      if (value !== undefined) this.map.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
    }
  }
  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const prev = this.map.get(key);
    this.map.set(key, prev === undefined ? value : `${prev}, ${value}`);
  }
  delete(name: string): void {
    this.map.delete(name.toLowerCase());
  }
  get(name: string): string | null {
    return this.map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  set(name: string, value: string): void {
    this.map.set(name.toLowerCase(), value);
  }
  entries(): IterableIterator<[string, string]> {
    return this.map.entries();
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
  values(): IterableIterator<string> {
    return this.map.values();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.map.entries();
  }
}

class UndiciResponse implements FetcherResponse {
  readonly redirected = false;
  readonly statusText: string;
  private used = false;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly headers: ResponseHeaders,
    private readonly body: BodyMixin,
  ) {
    this.statusText = STATUS_CODES[status] ?? '';
  }
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  get bodyUsed(): boolean {
    return this.used;
  }
  private take(): BodyMixin {
    if (this.used) throw new TypeError('Body has already been consumed');
    this.used = true;
    return this.body;
  }
  text(): Promise<string> {
    return this.take().text();
  }
  json(): Promise<unknown> {
    return this.take().json();
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.take().arrayBuffer();
  }
  clone(): FetcherResponse {
    throw new Error('clone() is not supported by the subgraph fetcher');
  }
}

/**
 * A Fetcher on undici's `request` API through `agent` (keep-alive, bounded sockets per origin).
 * Cheaper than WHATWG fetch: no Request/Response streams, no spec header guards.
 */
export function createUndiciFetcher(agent: Agent): Fetcher {
  return async (url, init = {}) => {
    const res = await request(url, {
      dispatcher: agent,
      method: (init.method ?? 'GET') as 'GET',
      headers: init.headers,
      body: init.body,
      signal: init.signal,
    });
    return new UndiciResponse(url, res.statusCode, new ResponseHeaders(res.headers), res.body);
  };
}
