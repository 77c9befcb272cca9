import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntitySchema, type DataSource } from 'typeorm';
import {
  Bus,
  ConsumerRunner,
  OutboxRelay,
  createDataSource,
  createEnvelope,
  createLogger,
  dropDatabase,
  encodeEnvelope,
  enqueueEvent,
  ensureDatabase,
  eventTables,
  listDeadLetters,
  replayDeadLetter,
  unitOfWork,
  type EventEnvelope,
  type StreamDefinition,
} from '../src/index';
import { eventually, mysqlUrl, natsUrl, startNatsServer, testId } from '@membergraph/testkit';

interface Note {
  id: string;
  body: string;
}
const NoteEntity = new EntitySchema<Note>({
  name: 'Note',
  tableName: 'note',
  columns: { id: { type: 'varchar', length: 40, primary: true }, body: { type: 'varchar', length: 100 } },
});
interface Applied {
  eventId: string;
  n: number;
}
const AppliedEntity = new EntitySchema<Applied>({
  name: 'Applied',
  tableName: 'applied',
  columns: { eventId: { type: 'varchar', length: 40, primary: true }, n: { type: 'int' } },
});

const log = createLogger('test', 'silent');
const id = testId();
const prefix = `t${id}.`;
const database = `t_${id}_kit`;
const stream: StreamDefinition = { name: 'KIT', subjects: ['kit.>'] };
let ds: DataSource;
let bus: Bus;

beforeAll(async () => {
  const { mariadb } = await ensureDatabase(mysqlUrl(), database);
  ds = createDataSource({ serverUrl: mysqlUrl(), database, mariadb, entities: [...eventTables, NoteEntity, AppliedEntity] });
  await ds.initialize();
  await ds.synchronize(); // tests only: production schemas come from migrations
  bus = await Bus.connect({ url: natsUrl(), prefix, name: 'kit-test', log });
  await bus.ensureStream(stream);
});

afterAll(async () => {
  for (const s of ['KIT', 'DLQ']) await bus.jsm.streams.delete(bus.streamName(s)).catch(() => false);
  await bus.close();
  await ds.destroy();
  await dropDatabase(mysqlUrl(), database);
});

async function countApplied(eventId: string) {
  return (await ds.getRepository(AppliedEntity).findOneBy({ eventId }))?.n ?? 0;
}

function applyHandler(fail: { remaining: number } = { remaining: 0 }) {
  return async ({ em }: { em: import('typeorm').EntityManager }, event: EventEnvelope) => {
    if (fail.remaining-- > 0) throw new Error('handler broke');
    await em.query('INSERT INTO applied (eventId, n) VALUES (?, 1) ON DUPLICATE KEY UPDATE n = n + 1', [event.id]);
  };
}

describe('outbox', () => {
  it('commits the business row and its event together, or neither', async () => {
    await expect(
      unitOfWork(ds, async (em) => {
        await em.getRepository(NoteEntity).insert({ id: 'n1', body: 'x' });
        await enqueueEvent(em, { type: 'kit.noted', source: 'kit', subject: 'n1', data: {} });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await ds.getRepository(NoteEntity).countBy({ id: 'n1' })).toBe(0);
    expect(await ds.query("SELECT * FROM outbox WHERE subject = 'n1'")).toHaveLength(0);

    await unitOfWork(ds, async (em) => {
      await em.getRepository(NoteEntity).insert({ id: 'n1', body: 'x' });
      await enqueueEvent(em, { type: 'kit.noted', source: 'kit', subject: 'n1', data: {} });
    });
    expect(await ds.getRepository(NoteEntity).countBy({ id: 'n1' })).toBe(1);
    expect(await ds.query("SELECT * FROM outbox WHERE subject = 'n1' AND sent_at IS NULL")).toHaveLength(1);
  });

  it('retries the whole unit of work after a real deadlock', async () => {
    await ds.getRepository(NoteEntity).insert([{ id: 'dA', body: '0' }, { id: 'dB', body: '0' }]);
    let attempts = 0;
    let arrived = 0;
    let release!: () => void;
    const bothLocked = new Promise<void>((r) => (release = r));
    const cross = (first: string, second: string) =>
      unitOfWork(ds, async (em) => {
        attempts++;
        await em.query("UPDATE note SET body = body + 1 WHERE id = ?", [first]);
        if (++arrived === 2) release();
        await Promise.race([bothLocked, new Promise((r) => setTimeout(r, 2000))]);
        await em.query("UPDATE note SET body = body + 1 WHERE id = ?", [second]);
      });
    await Promise.all([cross('dA', 'dB'), cross('dB', 'dA')]);
    expect(attempts).toBeGreaterThan(2);
    const rows = await ds.getRepository(NoteEntity).findBy([{ id: 'dA' }, { id: 'dB' }]);
    expect(rows.map((r) => Number(r.body))).toEqual([2, 2]);
  });
});

describe('relay and consumer', () => {
  it('publishes outbox rows and applies a redelivered event only once', async () => {
    const relay = new OutboxRelay(ds, bus, log, undefined, { idleMs: 50 });
    const consumer = new ConsumerRunner({ name: 'kit-once', stream, handlers: { 'kit.noted': applyHandler() } }, bus, ds, log);
    await consumer.start();
    relay.start();
    try {
      const event = await unitOfWork(ds, (em) => enqueueEvent(em, { type: 'kit.noted', source: 'kit', subject: 'n2', data: {} }));
      relay.notify();
      await eventually(async () => expect(await countApplied(event.id)).toBe(1));
      // The same event again under another msgID, past JetStream's dedupe: the inbox must stop it.
      await bus.js.publish(bus.subject('kit.noted'), encodeEnvelope(event), { msgID: `again-${event.id}` });
      await bus.js.publish(bus.subject('kit.noted'), encodeEnvelope(event), { msgID: `again2-${event.id}` });
      const marker = createEnvelope({ type: 'kit.noted', source: 'kit', subject: 'marker', data: {} });
      await bus.js.publish(bus.subject('kit.noted'), encodeEnvelope(marker));
      await eventually(async () => expect(await countApplied(marker.id)).toBe(1));
      expect(await countApplied(event.id)).toBe(1);
      expect(await ds.query('SELECT * FROM outbox WHERE sent_at IS NULL')).toHaveLength(0);
    } finally {
      await relay.stop();
      await consumer.stop();
    }
  });

  it('dead-letters a poison message after bounded retries, and a replay applies it once', async () => {
    const fail = { remaining: 3 };
    const consumer = new ConsumerRunner(
      { name: 'kit-poison', stream, handlers: { 'kit.poison': applyHandler(fail) }, maxAttempts: 3, backoffMs: [50, 50] },
      bus,
      ds,
      log,
    );
    await consumer.start();
    try {
      const event = createEnvelope({ type: 'kit.poison', source: 'kit', subject: 'p1', data: {} });
      await bus.js.publish(bus.subject('kit.poison'), encodeEnvelope(event), { msgID: event.id });
      const letters = await eventually(async () => {
        const l = (await listDeadLetters(bus)).filter((d) => d.consumer === 'kit-poison');
        expect(l).toHaveLength(1);
        return l;
      });
      expect(letters[0]!.attempts).toBe(3);
      expect(letters[0]!.reason).toContain('handler broke');
      expect(await countApplied(event.id)).toBe(0);

      fail.remaining = 0;
      await replayDeadLetter(bus, letters[0]!.seq);
      await eventually(async () => expect(await countApplied(event.id)).toBe(1));
      expect((await listDeadLetters(bus)).filter((d) => d.consumer === 'kit-poison')).toHaveLength(0);
    } finally {
      await consumer.stop();
    }
  });

  it('handles subjects in parallel lanes but each subject in stream order, every event once', async () => {
    await ds.query('CREATE TABLE IF NOT EXISTS applied_order (seq INT AUTO_INCREMENT PRIMARY KEY, subject VARCHAR(40), n INT)');
    let running = 0;
    let maxRunning = 0;
    const consumer = new ConsumerRunner(
      {
        name: 'kit-lanes',
        stream,
        concurrency: 4,
        handlers: {
          'kit.lane': async ({ em }, event) => {
            maxRunning = Math.max(maxRunning, ++running);
            await new Promise((r) => setTimeout(r, Math.random() * 5));
            await em.query('INSERT INTO applied_order (subject, n) VALUES (?, ?)', [event.subject, (event.data as { n: number }).n]);
            running--;
          },
        },
      },
      bus,
      ds,
      log,
    );
    await consumer.start();
    try {
      const subjects = Array.from({ length: 10 }, (_, i) => `member-${i}`);
      for (let n = 0; n < 20; n++) {
        for (const subject of subjects) {
          const e = createEnvelope({ type: 'kit.lane', source: 'kit', subject, data: { n } });
          await bus.js.publish(bus.subject('kit.lane'), encodeEnvelope(e), { msgID: e.id });
        }
      }
      await eventually(async () => expect((await ds.query('SELECT COUNT(*) AS c FROM applied_order'))[0].c).toBe('200'));
      const rows: Array<{ subject: string; n: number }> = await ds.query('SELECT subject, n FROM applied_order ORDER BY seq');
      for (const subject of subjects) {
        expect(rows.filter((r) => r.subject === subject).map((r) => r.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
      }
      expect(maxRunning).toBeGreaterThan(1);
    } finally {
      await consumer.stop();
    }
  });

  it('applies a lane\'s queued events in one transaction, and a poison event only sends its batch-mates one by one', async () => {
    await ds.query('CREATE TABLE IF NOT EXISTS applied_batch (n INT PRIMARY KEY, trx VARCHAR(40))');
    const consumer = new ConsumerRunner(
      {
        name: 'kit-batch',
        stream,
        concurrency: 1,
        batchSize: 8,
        maxAttempts: 2,
        backoffMs: [50],
        handlers: {
          'kit.batch': async ({ em }, event) => {
            const { n, poison } = event.data as { n: number; poison?: boolean };
            if (poison) throw new Error('poison');
            await em.query(
              'INSERT INTO applied_batch (n, trx) SELECT ?, trx_id FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID()',
              [n],
            );
          },
        },
      },
      bus,
      ds,
      log,
    );
    // Queued before the consumer starts, so its lane finds them waiting.
    const events = Array.from({ length: 20 }, (_, n) => createEnvelope({ type: 'kit.batch', source: 'kit', subject: 'one-member', data: { n, poison: n === 5 } }));
    for (const e of events) await bus.js.publish(bus.subject('kit.batch'), encodeEnvelope(e), { msgID: e.id });
    await consumer.start();
    try {
      await eventually(async () => expect((await listDeadLetters(bus)).filter((d) => d.consumer === 'kit-batch')).toHaveLength(1));
      const rows: Array<{ n: number; trx: string }> = await ds.query('SELECT n, trx FROM applied_batch ORDER BY n');
      expect(rows.map((r) => r.n)).toEqual(Array.from({ length: 20 }, (_, n) => n).filter((n) => n !== 5));
      expect(new Set(rows.map((r) => r.trx)).size).toBeLessThan(rows.length);
      const inbox = await ds.query("SELECT COUNT(*) AS c FROM inbox WHERE consumer = 'kit-batch'");
      expect(Number(inbox[0].c)).toBe(19);
    } finally {
      await consumer.stop();
    }
  });

  it('keeps relaying across a NATS restart: what was written while NATS was down goes out once it is back', async () => {
    const nats = await startNatsServer();
    const ownBus = await Bus.connect({ url: nats.url, prefix, name: 'kit-restart', log });
    await ownBus.ensureStream(stream);
    const relay = new OutboxRelay(ds, ownBus, log, undefined, { idleMs: 50 });
    // Drain what earlier tests left so only this test's event is pending.
    await ds.query('UPDATE outbox SET sent_at = NOW(3) WHERE sent_at IS NULL');
    relay.start();
    try {
      await nats.stop();
      const event = await unitOfWork(ds, (em) => enqueueEvent(em, { type: 'kit.noted', source: 'kit', subject: 'down', data: {} }));
      relay.notify();
      await new Promise((r) => setTimeout(r, 500));
      expect(await ds.query('SELECT id FROM outbox WHERE sent_at IS NULL')).toEqual([{ id: event.id }]);
      await nats.start();
      await eventually(async () => expect(await ds.query('SELECT id FROM outbox WHERE sent_at IS NULL')).toHaveLength(0), { timeoutMs: 30_000 });
      const info = await ownBus.jsm.streams.info(ownBus.streamName('KIT'));
      const msg = await ownBus.jsm.streams.getMessage(ownBus.streamName('KIT'), { seq: info.state.last_seq });
      expect(JSON.parse(msg!.string()).id).toBe(event.id);
    } finally {
      await relay.stop();
      await ownBus.close();
      await nats.dispose();
    }
  });
});
