import { headers as natsHeaders } from '@nats-io/transport-node';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { Bus } from './bus';
import { DLQ_STREAM } from './streams';
import { newId } from '../ids';

export interface DeadLetter {
  seq: number;
  consumer: string;
  originalSubject: string;
  reason: string;
  attempts: number;
  time: Date;
  payload: string;
}

/** Dead letters, oldest first, for an operator to inspect. */
export async function listDeadLetters(bus: Bus, opts: { limit?: number; fromSeq?: number } = {}): Promise<DeadLetter[]> {
  const stream = bus.streamName(DLQ_STREAM.name);
  const info = await bus.jsm.streams.info(stream).catch((err) => {
    if (err instanceof JetStreamApiError && err.status === 404) return null;
    throw err;
  });
  if (!info) return [];
  const out: DeadLetter[] = [];
  const limit = opts.limit ?? 100;
  for (let seq = Math.max(opts.fromSeq ?? 0, info.state.first_seq); seq <= info.state.last_seq && out.length < limit; seq++) {
    const msg = await bus.jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!msg) continue;
    out.push({
      seq,
      consumer: msg.header.get('Dlq-Consumer'),
      originalSubject: msg.header.get('Dlq-Original-Subject'),
      reason: msg.header.get('Dlq-Reason'),
      attempts: Number(msg.header.get('Dlq-Attempts') || 0),
      time: msg.time,
      payload: msg.string(),
    });
  }
  return out;
}

/**
 * Publishes a dead letter again on its original subject. Consumers that had already applied the
 * event find it in their inbox and skip it, so a replay only affects the one that failed.
 */
export async function replayDeadLetter(bus: Bus, seq: number): Promise<void> {
  const stream = bus.streamName(DLQ_STREAM.name);
  const msg = await bus.jsm.streams.getMessage(stream, { seq });
  if (!msg) throw new Error(`no dead letter at ${seq}`);
  const h = natsHeaders();
  const traceparent = msg.header.get('traceparent');
  if (traceparent) h.set('traceparent', traceparent);
  await bus.js.publish(msg.header.get('Dlq-Original-Subject'), msg.data, { headers: h, msgID: `replay:${newId()}` });
  await bus.jsm.streams.deleteMessage(stream, seq);
}
