import { expect } from 'vitest';
import { Bus, STREAMS, createEnvelope, createLogger, encodeEnvelope, type EventEnvelope } from '@membergraph/platform';
import { eventually, natsUrl, type TestScope } from '@membergraph/testkit';

/** A bus on the test scope's prefix that plays the member service: publishes its events and watches a consumer. */
export async function memberStreamProbe(scope: TestScope, consumer: string) {
  const bus = await Bus.connect({ url: natsUrl(), prefix: scope.prefix, name: 'test-probe', log: createLogger('test', 'silent') });
  const stream = await bus.ensureStream(STREAMS.member);
  // The durable name the platform's ConsumerRunner derives from the consumer name.
  const durable = bus.streamName(consumer).replace(/[^A-Za-z0-9_-]/g, '_');
  return {
    bus,
    /** Publishes `envelope`; a `msgID` other than its id gets past JetStream dedupe, as a redelivery would. */
    async publish(envelope: EventEnvelope, msgID = envelope.id): Promise<number> {
      const ack = await bus.js.publish(bus.subject(envelope.type), encodeEnvelope(envelope), { msgID });
      return ack.seq;
    },
    /** Resolves once the consumer has acknowledged everything up to stream sequence `seq` (its effects have committed). */
    async consumed(seq: number): Promise<void> {
      await eventually(async () => {
        const info = await bus.jsm.consumers.info(stream, durable);
        expect(info.ack_floor.stream_seq).toBeGreaterThanOrEqual(seq);
      });
    },
    close: () => bus.close(),
  };
}

export const envelope = <T>(type: string, subject: string, data: T) => createEnvelope({ type, source: 'member', subject, data });
