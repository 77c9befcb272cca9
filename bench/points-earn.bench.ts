/**
 * Earning throughput of the points service: publishes N `order.completed` envelopes (as the member
 * service would) for a few thousand members onto the MEMBER stream of a running points service, and
 * measures how long until its `points-member` consumer has acknowledged them all (each one applied
 * and committed: inbox row, caps, velocity rules, EARN entry, lot, account, outbox event).
 *
 *   # a points service on its own database and NATS prefix (velocity rules at their defaults):
 *   DB_NAME=bench_points_earn NATS_PREFIX=bench. LOG_LEVEL=warn PORT=4102 npm start --workspace=services/points
 *   NATS_PREFIX=bench. npm run bench:earn
 *   NATS_URL, NATS_PREFIX (same as the service's), EVENTS (default 20000), MEMBERS (default 3000),
 *   IN_FLIGHT (publishes awaiting their ack, default 256), TIMEOUT (seconds, default 900)
 */
import { EventType, type OrderCompleted } from '@membergraph/contracts';
import { Bus, STREAMS, createEnvelope, createLogger, durableName, encodeEnvelope, newId } from '@membergraph/platform';
import { env, positiveInt, run } from './lib';

const CONSUMER = 'points-member';

run(async () => {
  const url = env('NATS_URL') ?? 'nats://127.0.0.1:4222';
  const prefix = env('NATS_PREFIX') ?? '';
  const events = positiveInt('EVENTS', 20_000);
  const memberCount = positiveInt('MEMBERS', 3_000);
  const inFlight = positiveInt('IN_FLIGHT', 256);
  const timeoutMs = positiveInt('TIMEOUT', 900) * 1000;
  const bus = await Bus.connect({ url, prefix, name: 'bench-points-earn', log: createLogger('bench', 'warn') });
  try {
    const stream = await bus.ensureStream(STREAMS.member);
    const durable = durableName(bus, CONSUMER);
    const info = await bus.jsm.consumers.info(stream, durable).catch(() => null);
    if (!info) throw new Error(`no consumer ${durable} on ${stream}: start the points service with NATS_PREFIX=${prefix || '(empty)'} first`);
    const startFloor = info.ack_floor.stream_seq;
    if (info.num_pending || info.num_ack_pending) throw new Error(`${durable} still has ${info.num_pending + info.num_ack_pending} messages to apply: wait or use a fresh prefix`);
    const members = Array.from({ length: memberCount }, () => newId());
    console.log(`Publishing ${events} order.completed for ${memberCount} members to ${stream} (${url}, prefix "${prefix}"), ${inFlight} in flight...`);

    const started = performance.now();
    let lastSeq = 0;
    let next = 0;
    const publishOne = async () => {
      while (next < events) {
        const i = next++;
        const memberId = members[i % memberCount]!;
        // 10-500 yuan: whole-yuan orders earn 10-500 points at MEMBER (tier projection absent).
        const amount = 1_000 + ((i * 7_919) % 49_000);
        const data: OrderCompleted = { orderId: newId(), memberId, source: 'bench', externalId: `B-${i}`, amount, storeId: 's1', channel: 'STORE', completedAt: new Date().toISOString() };
        const envelope = createEnvelope({ type: EventType.OrderCompleted, source: 'member', subject: memberId, data });
        const ack = await bus.js.publish(bus.subject(EventType.OrderCompleted), encodeEnvelope(envelope), { msgID: envelope.id });
        lastSeq = Math.max(lastSeq, ack.seq);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, publishOne));
    const published = performance.now();
    console.log(`published in ${((published - started) / 1000).toFixed(1)} s (${Math.round(events / ((published - started) / 1000))} events/s); waiting for ${durable} to acknowledge through seq ${lastSeq}...`);

    let floor = startFloor;
    let lastReport = performance.now();
    while (floor < lastSeq) {
      if (performance.now() - started > timeoutMs) throw new Error(`timed out: acknowledged through ${floor}, ${lastSeq - floor} left`);
      await new Promise((r) => setTimeout(r, 200));
      floor = (await bus.jsm.consumers.info(stream, durable)).ack_floor.stream_seq;
      if (performance.now() - lastReport > 5_000) {
        lastReport = performance.now();
        const done = floor - startFloor;
        console.log(`  ${done} applied after ${((lastReport - started) / 1000).toFixed(0)} s`);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const summary = { events, members: memberCount, inFlight, publishSeconds: Math.round((published - started) / 100) / 10, totalSeconds: Math.round(seconds * 10) / 10, eventsPerSecond: Math.round(events / seconds) };
    console.log('');
    console.log(`applied        ${events} events in ${summary.totalSeconds} s (publishing and applying overlap)`);
    console.log(`events/s       ${summary.eventsPerSecond}`);
    console.log(`\nJSON ${JSON.stringify(summary)}`);
  } finally {
    await bus.close();
  }
});
