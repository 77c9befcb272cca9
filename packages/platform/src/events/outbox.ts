import type { EntityManager } from 'typeorm';
import { createEnvelope, type EventEnvelope, type NewEvent } from './envelope';
import { OutboxEntity, type OutboxRow } from './tables';
import { currentTraceparent } from '../telemetry';
import { insertMany } from '../db';

const outboxRow = (envelope: EventEnvelope): Omit<OutboxRow, 'seq'> => ({
  id: envelope.id,
  type: envelope.type,
  subject: envelope.subject,
  payload: JSON.stringify(envelope),
  traceparent: envelope.traceparent ?? null,
  createdAt: new Date(envelope.time),
  sentAt: null,
});

/**
 * Writes an event to the outbox inside the caller's transaction, so the event exists exactly
 * when the business change does. The request's traceparent travels in the row.
 */
export async function enqueueEvent<T>(em: EntityManager, event: NewEvent<T>): Promise<EventEnvelope<T>> {
  const [envelope] = await enqueueEvents(em, [event]);
  return envelope!;
}

/** Writes several events to the outbox in one multi-row INSERT (built by hand: linear in the rows) inside the caller's transaction. */
export async function enqueueEvents<T>(em: EntityManager, events: Array<NewEvent<T>>): Promise<Array<EventEnvelope<T>>> {
  if (!events.length) return [];
  const traceparent = currentTraceparent();
  const envelopes = events.map((event) => createEnvelope({ ...event, traceparent: event.traceparent ?? traceparent }));
  await insertMany(em, OutboxEntity, envelopes.map(outboxRow) as OutboxRow[]);
  return envelopes;
}
