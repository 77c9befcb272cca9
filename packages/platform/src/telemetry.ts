import { context, propagation, trace, type Context } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A pino JSON logger whose lines carry the active trace and span ids. */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { traceId, spanId };
    },
  });
}
export type { Logger };

/** Prometheus metrics of one process: default Node metrics plus GraphQL and event counters. */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    graphqlRequests: new Histogram({
      name: 'graphql_request_duration_seconds',
      help: 'GraphQL operation duration',
      labelNames: ['operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    eventsPublished: new Counter({
      name: 'events_published_total',
      help: 'Outbox events published to JetStream',
      labelNames: ['type'],
      registers: [registry],
    }),
    eventsConsumed: new Counter({
      name: 'events_consumed_total',
      help: 'Events handled by consumers',
      labelNames: ['consumer', 'type', 'outcome'],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** The W3C traceparent of the active span, for outbox rows and message headers. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** A context continuing the trace named by `traceparent` (from a message or an outbox row). */
export function contextFromTraceparent(traceparent: string | undefined | null): Context {
  if (!traceparent) return context.active();
  return propagation.extract(context.active(), { traceparent });
}

/** The tracer MemberGraph code uses for its own spans (outbox relay, consumers). */
export const tracer = trace.getTracer('membergraph');
