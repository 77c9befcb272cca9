/**
 * Earning throughput of the points service: `order.completed` envelopes (as the member service
 * publishes them) for a few thousand members onto the MEMBER stream, and how long until the
 * `points-member` consumer has applied and acknowledged them all (each one committed: inbox row,
 * rules, tier and status, caps, velocity rules, EARN entry, lot, account, outbox event) and the
 * outbox relay has published the `points.earned` events.
 *
 * By default the bench starts its own points app in this process on a scratch database and NATS
 * prefix (both removed afterwards) and publishes from a forked child process, so this process's CPU
 * is the service's. Over the measured window (first publish to last ack, outbox drained) it prints
 * events/s, SQL statements per event by kind (TypeORM's logger: transaction control and the relay
 * included), CPU per event of this process, mysqld and nats-server (from /proc: other sessions on
 * the shared MariaDB count too, hence the load average beside it), and with PROFILE=1 this
 * process's self time by package. Then it checks every order earned exactly its points and
 * `pointsAudit` is clean (exit 1 otherwise).
 *
 *   npm run bench:earn
 *   EVENTS (20000), MEMBERS (3000), IN_FLIGHT (publishes awaiting their ack, 256), CONSUMER_CONCURRENCY (8),
 *   DB_POOL_SIZE (10), PROFILE=1 (PROFILE_DIR keeps the .cpuprofile), AUDIT=0 skips the audit, TIMEOUT (s, 900),
 *   KEEP=1 keeps the database and streams, MYSQL_URL, NATS_URL; any other points setting passes through
 *
 * MODE=direct BATCH=n is a what-if for the kit: no NATS and no relay; the order handler is called
 * straight, CONSUMER_CONCURRENCY lanes (events of one member in one lane, in order, as the kit's
 * lanes do), each applying BATCH events per transaction (one multi-row inbox INSERT, one COMMIT).
 * BATCH=1 is what the kit's consumer does today per event; larger batches show what applying a
 * lane's fetched batch in one unit of work would give. Same figures and checks as above.
 *
 * EXTERNAL=1 measures a points service already running with the same NATS_PREFIX instead (only
 * events/s: the statements and CPU are the other process's):
 *   DB_NAME=bench_points_earn NATS_PREFIX=bench. LOG_LEVEL=warn PORT=0 npm start --workspace=services/points
 *   EXTERNAL=1 NATS_PREFIX=bench. npm run bench:earn
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'typeorm';
import { EventType, type OrderCompleted } from '@membergraph/contracts';
import { Bus, STREAMS, createEnvelope, createLogger, dropDatabase, durableName, encodeEnvelope, laneOf, newId, unitOfWork, type EventEnvelope } from '@membergraph/platform';
import { createApp } from '../services/points/src/app';
import { auditPoints } from '../services/points/src/services/points-audit.service';
import { orderCompletedHandler } from '../services/points/src/events/handlers/order-completed.handler';
import { countStatements, env, loadAverage, pidOf, positiveInt, printCpuProfile, processCpuSeconds, run, startCpuProfile } from './lib';

const CONSUMER = 'points-member';

interface PublishJob {
  url: string;
  prefix: string;
  events: number;
  members: number;
  inFlight: number;
}

/** The order amount of event i, in fen: 10-500 yuan, so 10-500 points at MEMBER with the default rules. */
const amountOf = (i: number) => 1_000 + ((i * 7_919) % 49_000);

const memberIdOf = (i: number, members: number) => `BENCH${String(i % members).padStart(21, '0')}`;

/** Event i of a run: an order of `amountOf(i)` for member i mod `members`. */
function orderEvent(i: number, members: number): EventEnvelope<OrderCompleted> {
  const memberId = memberIdOf(i, members);
  const data: OrderCompleted = { orderId: newId(), memberId, source: 'bench', externalId: `B-${i}`, amount: amountOf(i), storeId: 's1', channel: 'STORE', completedAt: new Date().toISOString() };
  return createEnvelope({ type: EventType.OrderCompleted, source: 'member', subject: memberId, data });
}

/** Publishes the job's events, 256 in flight; returns the stream sequence of the last one. */
async function publish(job: PublishJob): Promise<{ lastSeq: number; seconds: number }> {
  const bus = await Bus.connect({ url: job.url, prefix: job.prefix, name: 'bench-points-earn', log: createLogger('bench', 'warn') });
  try {
    await bus.ensureStream(STREAMS.member);
    const started = performance.now();
    let lastSeq = 0;
    let next = 0;
    const publishOne = async () => {
      while (next < job.events) {
        const envelope = orderEvent(next++, job.members);
        const ack = await bus.js.publish(bus.subject(EventType.OrderCompleted), encodeEnvelope(envelope), { msgID: envelope.id });
        lastSeq = Math.max(lastSeq, ack.seq);
      }
    };
    await Promise.all(Array.from({ length: job.inFlight }, publishOne));
    return { lastSeq, seconds: (performance.now() - started) / 1000 };
  } finally {
    await bus.close();
  }
}

/** Polls the consumer's ack floor until it reaches `lastSeq`. */
async function waitForAcks(bus: Bus, lastSeq: number, started: number, timeoutMs: number): Promise<void> {
  const stream = bus.streamName(STREAMS.member.name);
  const durable = durableName(bus, CONSUMER);
  const startFloor = (await bus.jsm.consumers.info(stream, durable)).ack_floor.stream_seq;
  let floor = startFloor;
  let lastReport = performance.now();
  while (floor < lastSeq) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out: acknowledged through ${floor}, ${lastSeq - floor} left`);
    await new Promise((r) => setTimeout(r, 100));
    floor = (await bus.jsm.consumers.info(stream, durable)).ack_floor.stream_seq;
    if (performance.now() - lastReport > 5_000) {
      lastReport = performance.now();
      console.log(`  acknowledged through seq ${floor} of ${lastSeq} after ${((lastReport - started) / 1000).toFixed(0)} s (load average ${loadAverage()})`);
    }
  }
}

/**
 * The what-if of MODE=direct: the order handler straight, `lanes` lanes (a member's events in one
 * lane, in order), each applying `batch` events per unit of work with one multi-row inbox INSERT.
 */
async function applyDirect(kit: ReturnType<typeof createApp>['kit'], envelopes: EventEnvelope[], lanes: number, batch: number): Promise<void> {
  const handler = orderCompletedHandler(kit);
  const byLane = Array.from({ length: lanes }, () => [] as EventEnvelope[]);
  for (const e of envelopes) byLane[laneOf(e.subject, lanes)]!.push(e);
  await Promise.all(
    byLane.map(async (queue) => {
      for (let i = 0; i < queue.length; i += batch) {
        const slice = queue.slice(i, i + batch);
        await unitOfWork(kit.ds, async (em) => {
          await em.query(`INSERT INTO inbox (consumer, event_id, processed_at) VALUES ${slice.map(() => '(?, ?, NOW(3))').join(', ')}`, slice.flatMap((e) => [CONSUMER, e.id]));
          for (const e of slice) await handler({ em, log: kit.log }, e);
        });
      }
    }),
  );
}

/** The old mode: a points service already running on NATS_PREFIX; only the wall-clock rate. */
async function external(): Promise<void> {
  const url = env('NATS_URL') ?? 'nats://127.0.0.1:4222';
  const prefix = env('NATS_PREFIX') ?? '';
  const job: PublishJob = { url, prefix, events: positiveInt('EVENTS', 20_000), members: positiveInt('MEMBERS', 3_000), inFlight: positiveInt('IN_FLIGHT', 256) };
  const bus = await Bus.connect({ url, prefix, name: 'bench-points-earn-watch', log: createLogger('bench', 'warn') });
  try {
    const stream = await bus.ensureStream(STREAMS.member);
    const durable = durableName(bus, CONSUMER);
    const info = await bus.jsm.consumers.info(stream, durable).catch(() => null);
    if (!info) throw new Error(`no consumer ${durable} on ${stream}: start the points service with NATS_PREFIX=${prefix || '(empty)'} first`);
    if (info.num_pending || info.num_ack_pending) throw new Error(`${durable} still has ${info.num_pending + info.num_ack_pending} messages to apply: wait or use a fresh prefix`);
    const load0 = loadAverage();
    const started = performance.now();
    const { lastSeq, seconds: publishSeconds } = await publish(job);
    console.log(`published ${job.events} in ${publishSeconds.toFixed(1)} s; waiting for ${durable} to acknowledge through seq ${lastSeq}...`);
    await waitForAcks(bus, lastSeq, started, positiveInt('TIMEOUT', 900) * 1000);
    const seconds = (performance.now() - started) / 1000;
    const summary = { events: job.events, members: job.members, publishSeconds: Math.round(publishSeconds * 10) / 10, totalSeconds: Math.round(seconds * 10) / 10, eventsPerSecond: Math.round(job.events / seconds), loadAverage: [load0, loadAverage()] };
    console.log(`\napplied ${job.events} events in ${summary.totalSeconds} s: ${summary.eventsPerSecond} events/s`);
    console.log(`JSON ${JSON.stringify(summary)}`);
  } finally {
    await bus.close();
  }
}

async function inProcess(): Promise<void> {
  const mysqlUrl = env('MYSQL_URL') ?? 'mysql://root@127.0.0.1:3306';
  const natsUrl = env('NATS_URL') ?? 'nats://127.0.0.1:4222';
  const events = positiveInt('EVENTS', 20_000);
  const members = positiveInt('MEMBERS', 3_000);
  const inFlight = positiveInt('IN_FLIGHT', 256);
  const timeoutMs = positiveInt('TIMEOUT', 900) * 1000;
  const profile = env('PROFILE') === '1';
  const keep = env('KEEP') === '1';
  const direct = env('MODE') === 'direct';
  const batch = positiveInt('BATCH', 1);
  const id = randomBytes(4).toString('hex');
  const database = `bench_points_earn_${id}`;
  const prefix = `bpe${id}.`;
  const app = createApp({
    ...process.env,
    MYSQL_URL: mysqlUrl,
    NATS_URL: natsUrl,
    DB_NAME: database,
    NATS_PREFIX: prefix,
    PORT: '0',
    LOG_LEVEL: env('LOG_LEVEL') ?? 'warn',
    // Only the earning path: no background jobs in the measured window.
    DAILY_JOBS_CHECK_INTERVAL_MS: '0',
    HOLD_SWEEP_INTERVAL_MS: '0',
    PENDING_RELEASE_INTERVAL_MS: '0',
  });
  const natsPid = pidOf('nats-server');
  try {
    await app.migrate();
    if (!direct) await app.start();
    const { kit } = app;
    const statements = countStatements(kit.ds as unknown as { logger: Logger });
    const unsent = async () => Number(((await kit.ds.query('SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL')) as Array<{ n: string }>)[0]!.n);
    console.log(
      `points app in this process (database ${database}, ${direct ? `MODE=direct, BATCH ${batch}` : `NATS prefix ${prefix}`}, CONSUMER_CONCURRENCY ${kit.config.CONSUMER_CONCURRENCY}, DB_POOL_SIZE ${kit.config.DB_POOL_SIZE}); ` +
        `${events} order.completed for ${members} members, load average ${loadAverage()}`,
    );
    const child = direct ? null : fork(fileURLToPath(import.meta.url), ['--publish'], { stdio: 'inherit' });
    const published = child
      ? new Promise<{ lastSeq: number; seconds: number }>((resolve, reject) => {
          child.once('message', (r) => resolve(r as { lastSeq: number; seconds: number }));
          child.once('exit', (code) => reject(new Error(`publisher exited with ${code}`)));
        })
      : null;
    const envelopes = direct ? Array.from({ length: events }, (_, i) => orderEvent(i, members)) : [];
    if (child) await new Promise((r) => setTimeout(r, 1500)); // let the publisher load its modules first
    statements.take();
    const load0 = loadAverage();
    const cpu0 = process.cpuUsage();
    const [m0, n0] = [processCpuSeconds(), processCpuSeconds(natsPid)];
    const profiler = profile ? await startCpuProfile() : null;
    const started = performance.now();
    let publishSeconds = 0;
    if (child && published) {
      child.send({ url: natsUrl, prefix, events, members, inFlight } satisfies PublishJob);
      const { lastSeq, seconds } = await published;
      publishSeconds = seconds;
      console.log(`published in ${publishSeconds.toFixed(1)} s (${Math.round(events / publishSeconds)} events/s); waiting for the consumer to acknowledge through seq ${lastSeq}...`);
      await waitForAcks(kit.bus, lastSeq, started, timeoutMs);
    } else {
      await applyDirect(kit, envelopes, kit.config.CONSUMER_CONCURRENCY ?? 8, batch);
    }
    const appliedSeconds = (performance.now() - started) / 1000;
    // The window includes publishing what the earnings wrote: the relay's statements and CPU count.
    if (!direct) while ((await unsent()) > 0) await new Promise((r) => setTimeout(r, 50));
    const seconds = (performance.now() - started) / 1000;
    const summary = await profiler?.stop(env('PROFILE_DIR') ? `${env('PROFILE_DIR')}/points-earn.cpuprofile` : undefined);
    const cpu = process.cpuUsage(cpu0);
    const [m1, n1] = [processCpuSeconds(), processCpuSeconds(natsPid)];
    const load1 = loadAverage();
    const counts = statements.take();

    const [span] = (await kit.ds.query('SELECT MIN(processed_at) AS first, MAX(processed_at) AS last FROM inbox')) as Array<{ first: Date; last: Date }>;
    const inboxSeconds = (new Date(span!.last).getTime() - new Date(span!.first).getTime()) / 1000;
    const perEvent = (x: number) => Math.round((x / events) * 100) / 100;
    const msPerEvent = (s: number | null) => (s === null ? null : Math.round((s * 1e6) / events) / 1000);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const figures = {
      events,
      members,
      mode: direct ? `direct, batch ${batch}` : 'consumer',
      consumerConcurrency: kit.config.CONSUMER_CONCURRENCY,
      dbPoolSize: kit.config.DB_POOL_SIZE,
      publishSeconds: Math.round(publishSeconds * 10) / 10,
      appliedSeconds: Math.round(appliedSeconds * 10) / 10,
      eventsPerSecond: Math.round(events / appliedSeconds),
      inboxEventsPerSecond: Math.round(events / Math.max(inboxSeconds, 0.001)),
      statementsPerEvent: perEvent(total),
      nodeCpuMsPerEvent: msPerEvent((cpu.user + cpu.system) / 1e6),
      nodeCpuShare: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100) / 100,
      mysqldCpuMsPerEvent: msPerEvent(m0 !== null && m1 !== null ? m1 - m0 : null),
      natsCpuMsPerEvent: msPerEvent(n0 !== null && n1 !== null ? n1 - n0 : null),
      loadAverage: [load0, load1],
    };
    console.log(`\napplied        ${events} events in ${figures.appliedSeconds} s (publishing and applying overlap; outbox drained after ${seconds.toFixed(1)} s)`);
    console.log(`events/s       ${figures.eventsPerSecond} (first to last inbox row: ${figures.inboxEventsPerSecond}/s)`);
    console.log(`statements per event: ${figures.statementsPerEvent}`);
    for (const [kind, n] of [...counts.entries()].sort((a, b) => b[1] - a[1])) console.log(`  ${perEvent(n).toFixed(2).padStart(7)}  ${kind}`);
    console.log(
      `CPU per event: node ${figures.nodeCpuMsPerEvent} ms (${Math.round(figures.nodeCpuShare * 100)}% of a core), mysqld ${figures.mysqldCpuMsPerEvent} ms, nats-server ${figures.natsCpuMsPerEvent} ms (load average ${load0} -> ${load1})`,
    );
    if (summary) printCpuProfile('points service', summary, events, positiveInt('TOP', 25));

    // Every order earned its points exactly once, and the ledger still adds up.
    let expected = 0;
    for (let i = 0; i < events; i++) expected += Math.floor(amountOf(i) / 100);
    const [book] = (await kit.ds.query(
      "SELECT (SELECT COUNT(*) FROM points_entry WHERE type = 'EARN') AS entries, (SELECT COALESCE(SUM(lifetime_earned), 0) FROM points_account) AS earned, (SELECT COUNT(*) FROM points_review) AS reviews",
    )) as Array<{ entries: string; earned: string; reviews: string }>;
    if (Number(book!.entries) !== events || Number(book!.earned) !== expected) {
      throw new Error(`expected ${events} EARN entries of ${expected} points in all, found ${book!.entries} of ${book!.earned} (${book!.reviews} held for review)`);
    }
    console.log(`checked: ${events} EARN entries, ${expected} points earned in all`);
    if (env('AUDIT') !== '0') {
      const audit = await auditPoints(kit.ds.manager);
      if (!audit.ok) throw new Error(`audit found ${audit.differences.length} differences, e.g. ${JSON.stringify(audit.differences[0])}`);
      console.log(`audit ok over ${audit.accountsChecked} accounts`);
    }
    console.log(`\nJSON ${JSON.stringify(figures)}`);
  } finally {
    await app.stop().catch(() => undefined);
    if (!keep) {
      await dropDatabase(mysqlUrl, database).catch(() => undefined);
      const bus = await Bus.connect({ url: natsUrl, prefix, name: 'bench-cleanup', log: createLogger('bench', 'silent') }).catch(() => null);
      if (bus) {
        await bus.deleteStreams().catch(() => undefined);
        await bus.close();
      }
    }
  }
}

if (process.argv.includes('--publish')) {
  process.once('message', (job) => {
    publish(job as PublishJob).then(
      (r) => process.send!(r, () => process.exit(0)),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
} else {
  run(env('EXTERNAL') === '1' ? external : inProcess);
}
