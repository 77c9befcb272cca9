import type { EntityManager } from 'typeorm';
import { createEnvelope, type EventEnvelope, type NewEvent } from './envelope';
import { OutboxEntity } from './tables';
import { currentTraceparent } from '../telemetry';

/**
 * Writes an event to the outbox inside the caller's transaction, so the event exists exactly
 * when the business change does. The request's traceparent travels in the row.
 */
export async function enqueueEvent<T>(em: EntityManager, event: NewEvent<T>): Promise<EventEnvelope<T>> {
  const envelope = createEnvelope({ ...event, traceparent: event.traceparent ?? currentTraceparent() });
  await em.getRepository(OutboxEntity).insert({
    id: envelope.id,
    type: envelope.type,
    subject: envelope.subject,
    payload: JSON.stringify(envelope),
    traceparent: envelope.traceparent ?? null,
    createdAt: new Date(envelope.time),
    sentAt: null,
  });
  return envelope;
}
