import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  jetstream,
  jetstreamManager,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { Logger } from '../telemetry';
import { STREAMS, DLQ_STREAM, type StreamDefinition } from './streams';

const nanos = (ms: number) => ms * 1_000_000;

export interface BusOptions {
  url: string;
  /** Prepended to every subject and stream name so tests (or tenants) do not meet. */
  prefix: string;
  name: string;
  log: Logger;
}

/** One NATS connection with JetStream, aware of the subject/stream prefix. */
export class Bus {
  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly prefix: string,
    private readonly log: Logger,
  ) {}

  /** Connects, retrying until NATS is reachable, and reconnecting forever afterwards. */
  static async connect(opts: BusOptions): Promise<Bus> {
    const nc = await connect({
      servers: opts.url.split(','),
      name: opts.name,
      waitOnFirstConnect: true,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: 5_000,
    });
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnect') opts.log.warn({ nats: s.type }, 'nats connection status');
      }
    })().catch(() => undefined);
    const jsm = await jetstreamManager(nc, { timeout: 10_000 });
    return new Bus(nc, jetstream(nc, { timeout: 10_000 }), jsm, opts.prefix, opts.log);
  }

  /** The NATS subject of an event type. */
  subject(type: string): string {
    return `${this.prefix}${type}`;
  }

  /** The event type of a NATS subject (inverse of `subject`). */
  typeOf(subject: string): string {
    return subject.startsWith(this.prefix) ? subject.slice(this.prefix.length) : subject;
  }

  /** The prefixed stream name (stream names cannot contain dots). */
  streamName(base: string): string {
    return `${this.prefix.replace(/\./g, '_')}${base}`;
  }

  /** Creates or updates a stream; called by producers and consumers alike, so start order does not matter. */
  async ensureStream(def: StreamDefinition): Promise<string> {
    const name = this.streamName(def.name);
    const config = {
      name,
      subjects: def.subjects.map((s) => this.subject(s)),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(def.maxAgeMs ?? 7 * 24 * 3600_000),
      duplicate_window: nanos(2 * 60_000),
      num_replicas: 1,
    };
    try {
      await this.jsm.streams.info(name);
      await this.jsm.streams.update(name, config);
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.status !== 404) throw err;
      try {
        await this.jsm.streams.add(config);
      } catch (addErr) {
        // A concurrent starter created it first: fine.
        if (!(addErr instanceof JetStreamApiError) || !/already in use|exists/i.test(addErr.message)) throw addErr;
      }
    }
    return name;
  }

  /** Ensures every event stream of the platform and the dead-letter stream. */
  async ensureAllStreams(): Promise<void> {
    for (const def of [...Object.values(STREAMS), DLQ_STREAM]) await this.ensureStream(def);
  }

  /** Deletes the streams under this prefix (tests only). */
  async deleteStreams(): Promise<void> {
    if (!this.prefix) throw new Error('refusing to delete unprefixed streams');
    for (const def of [...Object.values(STREAMS), DLQ_STREAM]) {
      await this.jsm.streams.delete(this.streamName(def.name)).catch(() => false);
    }
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
    this.log.debug('nats closed');
  }
}
