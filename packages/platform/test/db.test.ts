import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntitySchema, type DataSource, type EntityManager } from 'typeorm';
import {
  AuditEntryEntity,
  IdempotencyKeyEntity,
  JobRunEntity,
  audit,
  createDataSource,
  dropDatabase,
  ensureDatabase,
  enqueueEvents,
  eventTables,
  idempotent,
  runClaimed,
  unitOfWork,
  type IdempotentRequest,
} from '../src/index';
import { eventually, mysqlUrl, testId } from '@membergraph/testkit';

interface Counter {
  id: string;
  n: number;
}
const CounterEntity = new EntitySchema<Counter>({
  name: 'Counter',
  tableName: 'counter',
  columns: { id: { type: 'varchar', length: 40, primary: true }, n: { type: 'int' } },
});

const database = `t_${testId()}_kitdb`;
let ds: DataSource;

beforeAll(async () => {
  const { mariadb } = await ensureDatabase(mysqlUrl(), database);
  ds = createDataSource({ serverUrl: mysqlUrl(), database, mariadb, entities: [...eventTables, IdempotencyKeyEntity, AuditEntryEntity, JobRunEntity, CounterEntity] });
  await ds.initialize();
  await ds.synchronize(); // tests only: production schemas come from migrations
});

afterAll(async () => {
  await ds.destroy();
  await dropDatabase(mysqlUrl(), database);
});

/** A unit of work that bumps `counter` once per (operation, key) and returns its new value. */
const bump = (req: IdempotentRequest, before: () => Promise<void> = async () => {}) =>
  unitOfWork(ds, (em) =>
    idempotent(em, req, async () => {
      await before();
      await em.query('INSERT INTO counter (id, n) VALUES (?, 1) ON DUPLICATE KEY UPDATE n = n + 1', [req.key]);
      const [row] = await em.query('SELECT n FROM counter WHERE id = ?', [req.key]);
      return { n: Number(row.n) };
    }),
  );

const counter = async (key: string) => Number((await ds.query('SELECT n FROM counter WHERE id = ?', [key]))[0]?.n ?? 0);
const claims = async (key: string) => ds.getRepository(IdempotencyKeyEntity).countBy({ key });

/** Transactions of this test's database waiting for a row lock. */
const lockWaits = async () =>
  Number(
    (
      await ds.query(
        `SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
          WHERE t.trx_state = 'LOCK WAIT' AND p.DB = ?`,
        [database],
      )
    )[0].n,
  );

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

describe('idempotent', () => {
  it('runs the work once and replays its stored result for the same input in any key order', async () => {
    const first = await bump({ operation: 'bump', key: 'k1', input: { a: 1, b: 'x' } });
    const again = await bump({ operation: 'bump', key: 'k1', input: { b: 'x', a: 1, c: null } });
    expect(first).toEqual({ n: 1 });
    expect(again).toEqual({ n: 1 });
    expect(await counter('k1')).toBe(1);
  });

  it('keeps keys apart per operation', async () => {
    await bump({ operation: 'bump', key: 'k2', input: {} });
    expect(await bump({ operation: 'other', key: 'k2', input: {} })).toEqual({ n: 2 });
  });

  it('refuses the same key with another input: CONFLICT on idempotencyKey, nothing run', async () => {
    await bump({ operation: 'bump', key: 'k3', input: { amount: 100 } });
    const other = bump({ operation: 'bump', key: 'k3', input: { amount: 101 } });
    await expect(other).rejects.toMatchObject({ extensions: { code: 'CONFLICT', field: 'idempotencyKey' } });
    expect(await counter('k3')).toBe(1);
  });

  it('stores nothing when the work throws, so the key may be used again', async () => {
    const failing = unitOfWork(ds, (em) =>
      idempotent(em, { operation: 'bump', key: 'k4', input: {} }, async () => {
        throw new Error('refused');
      }),
    );
    await expect(failing).rejects.toThrow('refused');
    expect(await claims('k4')).toBe(0);
    expect(await bump({ operation: 'bump', key: 'k4', input: { other: true } })).toEqual({ n: 1 });
  });

  it('makes a concurrent retry wait for the first and replay its result', async () => {
    const claimed = gate();
    const hold = gate();
    const first = bump({ operation: 'bump', key: 'k5', input: {} }, () => {
      claimed.open();
      return hold.opened;
    });
    await claimed.opened;
    let retryRan = false;
    const retry = unitOfWork(ds, (em) =>
      idempotent(em, { operation: 'bump', key: 'k5', input: {} }, async () => {
        retryRan = true;
        return { n: -1 };
      }),
    );
    await eventually(async () => expect(await lockWaits()).toBe(1));
    hold.open();
    expect(await Promise.all([first, retry])).toEqual([{ n: 1 }, { n: 1 }]);
    expect(retryRan).toBe(false);
    expect(await counter('k5')).toBe(1);
  });

  it('lets a waiting retry do the work when the first one fails', async () => {
    const claimed = gate();
    const hold = gate();
    const first = unitOfWork(ds, (em) =>
      idempotent(em, { operation: 'bump', key: 'k6', input: {} }, async () => {
        claimed.open();
        await hold.opened;
        throw new Error('first failed');
      }),
    );
    await claimed.opened;
    const retry = bump({ operation: 'bump', key: 'k6', input: {} });
    await eventually(async () => expect(await lockWaits()).toBe(1));
    hold.open();
    await expect(first).rejects.toThrow('first failed');
    expect(await retry).toEqual({ n: 1 });
  });

  it('replays a result committed after an earlier REPEATABLE READ snapshot of the retry', async () => {
    const snapshotTaken = gate();
    const firstDone = gate();
    const retry = unitOfWork(
      ds,
      async (em: EntityManager) => {
        await em.query('SELECT COUNT(*) FROM idempotency_key'); // the snapshot starts here
        snapshotTaken.open();
        await firstDone.opened;
        return idempotent(em, { operation: 'bump', key: 'k7', input: {} }, async () => ({ n: -1 }));
      },
      { isolation: 'REPEATABLE READ' },
    );
    await snapshotTaken.opened;
    await bump({ operation: 'bump', key: 'k7', input: {} });
    firstDone.open();
    expect(await retry).toEqual({ n: 1 });
  });
});

describe('unitOfWork isolation', () => {
  const seesConcurrentCommit = async (isolation?: 'REPEATABLE READ') =>
    unitOfWork(
      ds,
      async (em) => {
        const count = async () => Number((await em.query("SELECT COUNT(*) AS n FROM counter WHERE id LIKE 'iso-%'"))[0].n);
        const before = await count();
        await ds.query('INSERT INTO counter (id, n) VALUES (?, 1)', [`iso-${testId()}`]); // another connection, autocommit
        return (await count()) !== before;
      },
      isolation ? { isolation } : {},
    );

  it('reads committed data by default and one snapshot with REPEATABLE READ', async () => {
    expect(await seesConcurrentCommit()).toBe(true);
    expect(await seesConcurrentCommit('REPEATABLE READ')).toBe(false);
  });
});

describe('audit', () => {
  it('records who did what to which target, with the detail as JSON, in the caller\'s transaction', async () => {
    await expect(
      unitOfWork(ds, async (em) => {
        await audit(em, 'admin-1', 'thing.delete', 'T1');
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    await unitOfWork(ds, async (em) => {
      await audit(em, 'admin-1', 'thing.create', 'T1', { name: 'x', roles: ['A'] });
      await audit(em, 'admin-1', 'thing.touch', 'T1');
    });
    const rows = await ds.query('SELECT actor, action, detail FROM audit_log WHERE target = ? ORDER BY id', ['T1']);
    expect(rows).toEqual([
      { actor: 'admin-1', action: 'thing.create', detail: '{"name":"x","roles":["A"]}' },
      { actor: 'admin-1', action: 'thing.touch', detail: null },
    ]);
  });
});

describe('enqueueEvents', () => {
  it('writes every event to the outbox in one statement with its own envelope, and nothing for none', async () => {
    const envelopes = await unitOfWork(ds, async (em) => {
      expect(await enqueueEvents(em, [])).toEqual([]);
      return enqueueEvents(em, [
        { type: 'kit.many', source: 'kit', subject: 's1', data: { i: 1 } },
        { type: 'kit.many', source: 'kit', subject: 's2', data: { i: 2 } },
      ]);
    });
    expect(new Set(envelopes.map((e) => e.id)).size).toBe(2);
    const rows: Array<{ id: string; subject: string; payload: string }> = await ds.query("SELECT id, subject, payload FROM outbox WHERE type = 'kit.many' ORDER BY seq");
    expect(rows.map((r) => [r.id, r.subject, JSON.parse(r.payload).data])).toEqual([
      [envelopes[0]!.id, 's1', { i: 1 }],
      [envelopes[1]!.id, 's2', { i: 2 }],
    ]);
  });
});

describe('claimed runs of scheduled jobs', () => {
  const base = { job: 'nightly', leaseMs: 60_000 };

  it('runs a job once per run key however many replicas try at once, and not again once finished', async () => {
    let runs = 0;
    const work = async () => ({ n: ++runs });
    const now = new Date('2027-01-01T00:00:00Z');
    const results = await Promise.all([1, 2, 3, 4].map((i) => runClaimed(ds, { ...base, runKey: '2027-01-01', replica: `r${i}`, now }, work)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(runs).toBe(1);
    expect(await runClaimed(ds, { ...base, runKey: '2027-01-01', replica: 'r5', now: new Date(now.getTime() + 3_600_000) }, work)).toBeNull();
    const [row] = await ds.query("SELECT attempts, finished_at, result FROM job_run WHERE job = 'nightly' AND run_key = '2027-01-01'");
    expect(row).toMatchObject({ attempts: 1, finished_at: expect.any(Date), result: '{"n":1}' });
  });

  it('gives a failed run back at once, and lets another replica take over a dead one only after its lease', async () => {
    const now = new Date('2027-01-02T00:00:00Z');
    const key = { ...base, runKey: '2027-01-02' };
    await expect(runClaimed(ds, { ...key, replica: 'r1', now }, () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    expect(await runClaimed(ds, { ...key, replica: 'r2', now: new Date(now.getTime() + 1) }, async () => 'ok')).toMatchObject({ result: 'ok' });

    const dead = { ...base, runKey: '2027-01-03' };
    const start = new Date('2027-01-03T00:00:00Z');
    // A replica that claims and never finishes: its work never settles within the test.
    void runClaimed(ds, { ...dead, replica: 'dies', now: start }, () => new Promise(() => undefined));
    await eventually(async () => expect((await ds.query("SELECT 1 FROM job_run WHERE run_key = '2027-01-03'")).length).toBe(1));
    expect(await runClaimed(ds, { ...dead, replica: 'r2', now: new Date(start.getTime() + 59_000) }, async () => 'early')).toBeNull();
    expect(await runClaimed(ds, { ...dead, replica: 'r2', now: new Date(start.getTime() + 61_000) }, async () => 'late')).toMatchObject({ result: 'late' });
    const [row] = await ds.query("SELECT attempts, claimed_by FROM job_run WHERE run_key = '2027-01-03'");
    expect(row).toEqual({ attempts: 2, claimed_by: 'r2' });
  });
});
