import { z } from 'zod';
import { newId } from '../ids';

/** The envelope every MemberGraph event travels in. Events carry ids, never PII. */
export const envelopeSchema = z.object({
  id: z.string().min(1),
  type: z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/),
  source: z.string().min(1),
  time: z.string().datetime({ offset: true }),
  subject: z.string().min(1),
  version: z.number().int().positive(),
  data: z.unknown(),
  traceparent: z.string().optional(),
});

export interface EventEnvelope<T = unknown> {
  id: string;
  type: string;
  source: string;
  time: string;
  /** The aggregate the event is about (member id, order id...). */
  subject: string;
  version: number;
  data: T;
  traceparent?: string;
}

export interface NewEvent<T> {
  type: string;
  source: string;
  subject: string;
  data: T;
  version?: number;
  traceparent?: string;
  time?: Date;
}

/** Wraps `data` in an envelope with a fresh sortable id. */
export function createEnvelope<T>(event: NewEvent<T>): EventEnvelope<T> {
  return {
    id: newId(),
    type: event.type,
    source: event.source,
    time: (event.time ?? new Date()).toISOString(),
    subject: event.subject,
    version: event.version ?? 1,
    data: event.data,
    ...(event.traceparent ? { traceparent: event.traceparent } : {}),
  };
}

export function encodeEnvelope(envelope: EventEnvelope): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(envelope));
}

/** Parses and validates an envelope; throws on anything malformed (a poison message). */
export function decodeEnvelope(bytes: Uint8Array | string): EventEnvelope {
  const text = typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes);
  return envelopeSchema.parse(JSON.parse(text)) as EventEnvelope;
}
