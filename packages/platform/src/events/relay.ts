import type { DataSource } from 'typeorm';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { SpanKind, context, propagation } from '@opentelemetry/api';
import type { Bus } from './bus';
import { contextFromTraceparent, tracer, type Logger, type Metrics } from '../telemetry';

export interface RelayOptions {
  batchSize?: number;
  /** How long to sleep when the outbox is empty and nobody called notify(). */
  idleMs?: number;
  /** Sent rows are kept this long so they can be re-published, then deleted. */
  retentionDays?: number;
}

interface ClaimedRow {
  seq: string | number;
  id: string;
  type: string;
  payload: string;
  traceparent: string | null;
}

/**
 * Publishes outbox rows to JetStream. Rows are claimed with FOR UPDATE SKIP LOCKED, so several
 * replicas share the work; msgID = event id lets JetStream drop the duplicate when a crash
 * between publish and commit makes a row go out twice.
 */
export class OutboxRelay {
  private stopped = true;
  private loop?: Promise<void>;
  private wake?: () => void;
  private pending = false;
  private lastCleanup = 0;
  private readonly batchSize: number;
  private readonly idleMs: number;
  private readonly retentionDays: number;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    opts: RelayOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 100;
    this.idleMs = opts.idleMs ?? 1000;
    this.retentionDays = opts.retentionDays ?? 7;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Called after a commit that wrote events: publish now instead of at the next poll. */
  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /** Publishes one batch; returns how many rows went out. Throws when none could be published. */
  async publishBatch(): Promise<number> {
    return this.ds.transaction('READ COMMITTED', async (em) => {
      const rows: ClaimedRow[] = await em.query(
        'SELECT seq, id, type, payload, traceparent FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED',
        [this.batchSize],
      );
      const sent: Array<string | number> = [];
      let failure: unknown;
      for (const row of rows) {
        try {
          await this.publish(row);
          sent.push(row.seq);
        } catch (err) {
          failure = err;
          break;
        }
      }
      if (sent.length) await em.query('UPDATE outbox SET sent_at = NOW(3) WHERE seq IN (?)', [sent]);
      if (failure && !sent.length) throw failure;
      return sent.length;
    });
  }

  private async publish(row: ClaimedRow): Promise<void> {
    const parent = contextFromTraceparent(row.traceparent);
    await tracer.startActiveSpan(`publish ${row.type}`, { kind: SpanKind.PRODUCER }, parent, async (span) => {
      try {
        const h = natsHeaders();
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        const traceparent = carrier.traceparent ?? row.traceparent;
        if (traceparent) h.set('traceparent', traceparent);
        await this.bus.js.publish(this.bus.subject(row.type), row.payload, { msgID: row.id, headers: h, timeout: 5_000 });
        this.metrics?.eventsPublished.inc({ type: row.type });
      } finally {
        span.end();
      }
    });
  }

  private async run(): Promise<void> {
    let backoff = 0;
    while (!this.stopped) {
      this.pending = false;
      try {
        const n = await this.publishBatch();
        backoff = 0;
        await this.cleanup();
        if (n >= this.batchSize || this.pending) continue;
        await this.sleep(this.idleMs);
      } catch (err) {
        backoff = Math.min(5_000, Math.max(100, backoff * 2));
        this.log.warn({ err: (err as Error).message, retryInMs: backoff }, 'outbox relay could not publish');
        await this.sleep(backoff);
      }
    }
  }

  private async cleanup(): Promise<void> {
    if (Date.now() - this.lastCleanup < 3600_000) return;
    this.lastCleanup = Date.now();
    const cutoff = new Date(Date.now() - this.retentionDays * 86400_000);
    await this.ds.query('DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ? LIMIT 10000', [cutoff]);
  }

  private sleep(ms: number): Promise<void> {
    if (this.pending || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}
