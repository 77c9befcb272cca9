import type { DataSource, EntityManager } from 'typeorm';
import { AckPolicy, DeliverPolicy, JetStreamApiError, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { SpanKind } from '@opentelemetry/api';
import type { Bus } from './bus';
import { decodeEnvelope, type EventEnvelope } from './envelope';
import { DLQ_STREAM, type StreamDefinition } from './streams';
import { isDuplicateKey, unitOfWork } from '../db';
import { contextFromTraceparent, tracer, type Logger, type Metrics } from '../telemetry';

/** What an event handler receives: the transaction its effect (and inbox row) commit in. */
export interface HandlerContext {
  em: EntityManager;
  log: Logger;
}

export type EventHandler = (ctx: HandlerContext, event: EventEnvelope) => Promise<void>;

export interface ConsumerDefinition {
  /** Durable name; also the inbox key, so keep it stable. */
  name: string;
  stream: StreamDefinition;
  /** Handlers by event type; other types on the stream are acknowledged and skipped. */
  handlers: Record<string, EventHandler>;
  /** Attempts before the message goes to the dead-letter stream. */
  maxAttempts?: number;
  /** Delay before attempt n+1 is backoffMs[n-1] (last value repeats). */
  backoffMs?: number[];
  /**
   * Events handled at once (default 8). Events about one subject (a member, an order) always go
   * to the same lane, so they are applied in stream order; different subjects run in parallel.
   */
  concurrency?: number;
  /**
   * Queued events of one lane applied in one transaction (default 1: each alone). A batch that fails
   * rolls back whole and its events are applied again one by one, so a poison event only costs its
   * batch-mates a retry; exactly-once still rests on the inbox row written with each effect.
   */
  batchSize?: number;
}

interface Delivery {
  m: JsMsg;
  event: EventEnvelope | Error;
}

/** The lane of a subject: a stable hash, so one aggregate's events are never applied out of order. */
export function laneOf(subject: string, lanes: number): number {
  let h = 2166136261;
  for (let i = 0; i < subject.length; i++) h = Math.imul(h ^ subject.charCodeAt(i), 16777619);
  return (h >>> 0) % lanes;
}

export const DEFAULT_BACKOFF_MS = [500, 2_000, 5_000, 15_000, 30_000];

/** The redelivery delay after `attempt` failed attempts. */
export function backoffFor(attempt: number, backoffMs: number[] = DEFAULT_BACKOFF_MS): number {
  return backoffMs[Math.min(attempt, backoffMs.length) - 1] ?? 1_000;
}

/** The JetStream durable name of `consumer` on `bus`: its prefixed name with every character NATS forbids there replaced by `_`. */
export function durableName(bus: Bus, consumer: string): string {
  return bus.streamName(consumer).replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * Runs one durable pull consumer: each message is handled in a unit of work that first inserts
 * (consumer, event id) into the inbox, so a redelivered event is acknowledged without effect.
 * The server may redeliver without limit (max_deliver -1): the bound is enforced here, after the
 * message has been copied to the dead-letter stream, so a crash can never lose it.
 */
export class ConsumerRunner {
  private messages?: ConsumerMessages;
  private stopped = false;
  private loop?: Promise<void>;
  private readonly maxAttempts: number;
  private readonly backoffMs: number[];
  private readonly concurrency: number;
  private readonly batchSize: number;

  constructor(
    private readonly def: ConsumerDefinition,
    private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    /** Called after each applied event commits (the service wakes its outbox relay here). */
    private readonly afterCommit?: () => void,
  ) {
    this.maxAttempts = def.maxAttempts ?? 5;
    this.backoffMs = def.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.concurrency = Math.max(1, def.concurrency ?? 8);
    this.batchSize = Math.max(1, def.batchSize ?? 1);
  }

  get durable(): string {
    return durableName(this.bus, this.def.name);
  }

  /** Creates the stream (if the producer has not yet) and the durable consumer, then starts consuming. */
  async start(): Promise<void> {
    const stream = await this.bus.ensureStream(this.def.stream);
    await this.bus.ensureStream(DLQ_STREAM);
    const config = {
      durable_name: this.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000_000_000,
      max_deliver: -1,
      max_ack_pending: 256,
    };
    try {
      await this.bus.jsm.consumers.info(stream, this.durable);
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.status !== 404) throw err;
      await this.bus.jsm.consumers.add(stream, config);
    }
    const consumer = await this.bus.js.consumers.get(stream, this.durable);
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          this.messages = await consumer.consume({ max_messages: 64 });
          await this.dispatch(this.messages);
        } catch (err) {
          if (this.stopped) break;
          this.log.warn({ err: (err as Error).message, consumer: this.durable }, 'consumer interrupted; resuming');
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }

  /**
   * Feeds messages into per-subject lanes. At most `concurrency` x 4 messages are in flight, so a
   * slow lane holds back the pull instead of buffering without bound. A lane drains its queue in
   * batches of up to `batchSize`, in stream order.
   */
  private async dispatch(messages: AsyncIterable<JsMsg>): Promise<void> {
    const queues: Delivery[][] = Array.from({ length: this.concurrency }, () => []);
    const draining: Array<Promise<void> | undefined> = Array.from({ length: this.concurrency });
    const limit = this.concurrency * 4;
    let inflight = 0;
    let wake: (() => void) | undefined;
    const drain = async (lane: number) => {
      const queue = queues[lane]!;
      while (queue.length) {
        const batch = queue.splice(0, this.batchSize);
        try {
          await this.apply(batch);
        } catch (err) {
          this.log.error({ err, consumer: this.durable }, 'event handling failed unexpectedly');
        } finally {
          inflight -= batch.length;
          const w = wake;
          wake = undefined;
          w?.();
        }
      }
      // In the same synchronous step as the empty check: a message queued after it starts a new drain.
      draining[lane] = undefined;
    };
    try {
      for await (const m of messages) {
        while (inflight >= limit) await new Promise<void>((r) => (wake = r));
        let event: EventEnvelope | Error;
        try {
          event = decodeEnvelope(m.data);
        } catch (err) {
          event = err as Error;
        }
        const lane = event instanceof Error ? 0 : laneOf(event.subject, this.concurrency);
        inflight++;
        queues[lane]!.push({ m, event });
        draining[lane] ??= drain(lane);
      }
    } finally {
      await Promise.all(draining);
    }
  }

  /** Applies a lane's batch: together in one unit of work when more than one has a handler, else one by one. */
  private async apply(batch: Delivery[]): Promise<void> {
    const together: Array<{ m: JsMsg; event: EventEnvelope; handler: EventHandler }> = [];
    for (const { m, event } of batch) {
      const handler = event instanceof Error ? undefined : this.def.handlers[event.type];
      if (event instanceof Error || !handler || batch.length === 1) await this.handle(m, event);
      else together.push({ m, event, handler });
    }
    if (together.length === 1) return this.handle(together[0]!.m, together[0]!.event);
    if (!together.length) return;
    let applied: boolean[];
    try {
      applied = await unitOfWork(this.ds, async (em) => {
        const out: boolean[] = [];
        for (const { m, event, handler } of together) out.push(await this.applyOne(em, m, event, handler));
        return out;
      });
    } catch (err) {
      // Nothing of the batch committed: each event gets its own unit of work, retries and DLQ.
      this.log.debug({ err: (err as Error).message, consumer: this.durable, events: together.length }, 'batch failed; applying its events one by one');
      for (const { m, event } of together) await this.handle(m, event);
      return;
    }
    together.forEach(({ m, event }, i) => {
      m.ack();
      this.metrics?.eventsConsumed.inc({ consumer: this.def.name, type: event.type, outcome: applied[i] ? 'applied' : 'duplicate' });
    });
    if (applied.some(Boolean)) this.afterCommit?.();
  }

  /** Inbox row then the handler's effect, in `em`'s transaction, under the event's own span; false when applied before. */
  private async applyOne(em: EntityManager, m: JsMsg, event: EventEnvelope, handler: EventHandler): Promise<boolean> {
    try {
      // Not INSERT IGNORE: that would also turn a too-long id into a silent truncation.
      await em.query('INSERT INTO inbox (consumer, event_id, processed_at) VALUES (?, ?, NOW(3))', [this.def.name, event.id]);
    } catch (err) {
      if (isDuplicateKey(err)) return false; // applied before: acknowledge without effect
      throw err;
    }
    const parent = contextFromTraceparent(m.headers?.get('traceparent') || event.traceparent);
    await tracer.startActiveSpan(`consume ${event.type}`, { kind: SpanKind.CONSUMER }, parent, async (span) => {
      try {
        await handler({ em, log: this.log }, event);
      } finally {
        span.end();
      }
    });
    return true;
  }

  private async handle(m: JsMsg, decoded: EventEnvelope | Error): Promise<void> {
    if (decoded instanceof Error) {
      await this.deadLetter(m, 'unknown', `malformed envelope: ${decoded.message}`);
      m.term('malformed envelope');
      return;
    }
    const event = decoded;
    const handler = this.def.handlers[event.type];
    if (!handler) {
      m.ack();
      return;
    }
    try {
      const applied = await unitOfWork(this.ds, (em) => this.applyOne(em, m, event, handler));
      m.ack();
      if (applied) this.afterCommit?.();
      this.metrics?.eventsConsumed.inc({ consumer: this.def.name, type: event.type, outcome: applied ? 'applied' : 'duplicate' });
    } catch (err) {
      const attempt = m.info.deliveryCount;
      const reason = (err as Error).message ?? String(err);
      this.metrics?.eventsConsumed.inc({ consumer: this.def.name, type: event.type, outcome: 'failed' });
      if (attempt >= this.maxAttempts) {
        try {
          await this.deadLetter(m, event.type, reason);
          this.log.error({ err, eventId: event.id, type: event.type, attempt }, 'event dead-lettered');
          m.term(reason.slice(0, 200));
        } catch (dlqErr) {
          // Never drop a message we could not park: let it come back later.
          this.log.error({ err: (dlqErr as Error).message, eventId: event.id }, 'dead-letter publish failed');
          m.nak(backoffFor(attempt, this.backoffMs));
        }
      } else {
        this.log.warn({ err: reason, eventId: event.id, type: event.type, attempt }, 'event handler failed; will retry');
        m.nak(backoffFor(attempt, this.backoffMs));
      }
    }
  }

  private async deadLetter(m: JsMsg, type: string, reason: string): Promise<void> {
    const h = natsHeaders();
    for (const [k, v] of m.headers ?? []) if (k !== 'Nats-Msg-Id') for (const value of v) h.append(k, value);
    h.set('Dlq-Consumer', this.def.name);
    h.set('Dlq-Reason', reason.replace(/[\r\n]+/g, ' ').slice(0, 500));
    h.set('Dlq-Original-Subject', m.subject);
    h.set('Dlq-Stream-Seq', String(m.seq));
    h.set('Dlq-Attempts', String(m.info.deliveryCount));
    await this.bus.js.publish(this.bus.subject(`dlq.${this.def.name}.${type}`), m.data, {
      headers: h,
      msgID: `dlq:${this.def.name}:${m.info.stream}:${m.seq}`,
    });
  }
}
