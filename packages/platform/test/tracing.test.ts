import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { DataSource } from 'typeorm';
import {
  Bus,
  ConsumerRunner,
  OutboxRelay,
  createDataSource,
  createLogger,
  dropDatabase,
  enqueueEvent,
  ensureDatabase,
  eventTables,
  unitOfWork,
  type EventEnvelope,
} from '../src/index';
import { eventually, mysqlUrl, natsUrl, testId } from '@membergraph/testkit';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

const log = createLogger('test', 'silent');
const id = testId();
const prefix = `t${id}.`;
const database = `t_${id}_trace`;
const stream = { name: 'TRC', subjects: ['trc.>'] };
let ds: DataSource;
let bus: Bus;

beforeAll(async () => {
  const { mariadb } = await ensureDatabase(mysqlUrl(), database);
  ds = createDataSource({ serverUrl: mysqlUrl(), database, mariadb, entities: eventTables });
  await ds.initialize();
  await ds.synchronize(); // tests only
  bus = await Bus.connect({ url: natsUrl(), prefix, name: 'trace-test', log });
});

afterAll(async () => {
  for (const s of ['TRC', 'DLQ']) await bus.jsm.streams.delete(bus.streamName(s)).catch(() => false);
  await bus.close();
  await ds.destroy();
  await dropDatabase(mysqlUrl(), database);
  await provider.shutdown();
});

describe('trace propagation through the outbox and NATS', () => {
  it('stores the request traceparent in the outbox row and continues the trace in the consumer', async () => {
    let seen: { traceId?: string; event?: EventEnvelope } = {};
    const consumer = new ConsumerRunner(
      {
        name: 'trace-consumer',
        stream,
        handlers: {
          'trc.done': async (_ctx, event) => {
            seen = { traceId: trace.getActiveSpan()?.spanContext().traceId, event };
          },
        },
      },
      bus,
      ds,
      log,
    );
    await consumer.start();
    const relay = new OutboxRelay(ds, bus, log, undefined, { idleMs: 50 });
    relay.start();
    try {
      const tracer = trace.getTracer('test');
      const requestTraceId = await tracer.startActiveSpan('request', async (span) => {
        await unitOfWork(ds, (em) => enqueueEvent(em, { type: 'trc.done', source: 'test', subject: 'x', data: {} }));
        span.end();
        return span.spanContext().traceId;
      });
      const [row] = await ds.query('SELECT traceparent FROM outbox');
      expect(row.traceparent).toContain(requestTraceId);
      relay.notify();
      await eventually(() => expect(seen.traceId).toBe(requestTraceId));
      const names = exporter.getFinishedSpans().map((s) => s.name);
      expect(names).toEqual(expect.arrayContaining(['request', 'publish trc.done', 'consume trc.done']));
      expect(exporter.getFinishedSpans().every((s) => s.spanContext().traceId === requestTraceId || s.name !== 'consume trc.done')).toBe(true);
    } finally {
      await relay.stop();
      await consumer.stop();
    }
  });
});
