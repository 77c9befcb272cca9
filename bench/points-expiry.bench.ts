/**
 * The points expiry job on a large book: migrates a scratch database with the points app, seeds
 * LOTS lots over MEMBERS members with set-based INSERT ... SELECT (each lot an EARN entry of its own,
 * accounts summed from them, so the ledger audits clean), all already past their expiry, then times
 * `runPointsExpiry` (one EXPIRE entry and one points.expired outbox row per member, chunked by
 * EXPIRY_BATCH_MEMBERS) and checks the audit afterwards.
 *
 *   npm run bench:expiry
 *   MYSQL_URL, LOTS (default 200000), MEMBERS (default LOTS / 10), EXPIRY_BATCH_MEMBERS (default 500),
 *   DB_NAME (default bench_points_expiry; dropped first and at the end unless KEEP=1), AUDIT=0 to skip the audit
 */
import { performance } from 'node:perf_hooks';
import { dropDatabase } from '@membergraph/platform';
import { createApp } from '../services/points/src/app';
import { runPointsExpiry } from '../services/points/src/services/points-expiry.service';
import { auditPoints } from '../services/points/src/services/points-audit.service';
import { env, loadAverage, positiveInt, processCpuSeconds, run } from './lib';

const secondsSince = (t: number) => Math.round((performance.now() - t) / 100) / 10;

/** A statement's verb and first table: `INSERT points_draw`, `UPDATE points_lot`. */
function statementKind(sql: string): string {
  const s = sql.trim().replace(/\s+/g, ' ');
  const verb = /^(SET TRANSACTION|START TRANSACTION|COMMIT|ROLLBACK|SELECT|INSERT|UPDATE|DELETE|[A-Z]+)/i.exec(s)?.[1]?.toUpperCase() ?? '?';
  const table = /\b(?:FROM|INTO|UPDATE)\s+`?(\w+)`?/i.exec(s)?.[1];
  return table ? `${verb} ${table}${/FOR UPDATE/i.test(s) ? ' FOR UPDATE' : ''}` : verb;
}

run(async () => {
  const mysqlUrl = env('MYSQL_URL') ?? 'mysql://root@127.0.0.1:3306';
  const lots = positiveInt('LOTS', 200_000);
  const members = positiveInt('MEMBERS', Math.max(1, Math.floor(lots / 10)));
  const batch = positiveInt('EXPIRY_BATCH_MEMBERS', 500);
  const database = env('DB_NAME') ?? 'bench_points_expiry';
  await dropDatabase(mysqlUrl, database);
  const app = createApp({ ...process.env, MYSQL_URL: mysqlUrl, DB_NAME: database, EXPIRY_BATCH_MEMBERS: String(batch), LOG_LEVEL: 'warn' });
  await app.migrate();
  const ds = app.kit.ds;
  try {
    console.log(`Seeding ${lots} lots over ${members} members in ${database}...`);
    const seeding = performance.now();
    // A numbers table 0..lots-1 from a cross join of digits: no per-row round trips.
    await ds.query('CREATE TEMPORARY TABLE digits (d INT PRIMARY KEY)');
    await ds.query('INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)');
    await ds.query('CREATE TABLE bench_n (n INT PRIMARY KEY)');
    await ds.query(
      `INSERT INTO bench_n SELECT a.d + 10*b.d + 100*c.d + 1000*d.d + 10000*e.d + 100000*f.d + 1000000*g.d AS n
         FROM digits a, digits b, digits c, digits d, digits e, digits f, digits g
        WHERE a.d + 10*b.d + 100*c.d + 1000*d.d + 10000*e.d + 100000*f.d + 1000000*g.d < ?`,
      [lots],
    );
    // Fixed-width ids starting 00, so they sort before the ULIDs the run writes (the audit reads the latest entry by id). Lots earned 400 to 380 days ago, expired 35 to 15 days ago, 10-109 points each.
    const member = `CONCAT('BM', LPAD(n % ${members}, 24, '0'))`;
    await ds.query(
      `INSERT INTO points_entry (id, member_id, type, amount, held, balance_after, reason, reference, idempotency_key, operator, note, created_at)
       SELECT CONCAT('00E', LPAD(n, 23, '0')), ${member}, 'EARN', 10 + n % 100, 0, 0, 'ORDER', CONCAT('bench-', n), CONCAT('bench:', n), NULL, NULL,
              NOW(3) - INTERVAL (380 + n % 20) DAY
         FROM bench_n`,
    );
    await ds.query(
      `INSERT INTO points_lot (id, member_id, entry_id, amount, remaining, earned_at, expires_at)
       SELECT CONCAT('00L', LPAD(n, 23, '0')), ${member}, CONCAT('00E', LPAD(n, 23, '0')), 10 + n % 100, 10 + n % 100,
              NOW(3) - INTERVAL (380 + n % 20) DAY, NOW(3) - INTERVAL (15 + n % 20) DAY
         FROM bench_n`,
    );
    await ds.query(
      `INSERT INTO points_account (member_id, balance, held, lifetime_earned, updated_at)
       SELECT member_id, SUM(amount), 0, SUM(amount), NOW(3) FROM points_entry GROUP BY member_id`,
    );
    // balance_after as a running total per member, so the audit's BALANCE_AFTER holds too.
    await ds.query(
      `UPDATE points_entry e JOIN (SELECT id, SUM(amount) OVER (PARTITION BY member_id ORDER BY id) AS running FROM points_entry) r ON r.id = e.id
          SET e.balance_after = r.running`,
    );
    await ds.query('DROP TABLE bench_n');
    const seedSeconds = secondsSince(seeding);
    console.log(`seeded in ${seedSeconds} s (load average ${loadAverage()})`);

    // Where the run's time goes: each statement's wall time (TypeORM's afterQuery), by kind.
    const byKind = new Map<string, { n: number; ms: number }>();
    ds.subscribers.push({
      afterQuery(event: { query: string; executionTime?: number }) {
        const kind = statementKind(event.query);
        const k = byKind.get(kind) ?? { n: 0, ms: 0 };
        k.n++;
        k.ms += event.executionTime ?? 0;
        byKind.set(kind, k);
      },
    } as never);
    const load0 = loadAverage();
    const cpu0 = process.cpuUsage();
    const mysqld0 = processCpuSeconds();
    const expiring = performance.now();
    const result = await runPointsExpiry(app.kit, new Date(), 'bench');
    const expirySeconds = secondsSince(expiring);
    const cpu = process.cpuUsage(cpu0);
    const mysqld1 = processCpuSeconds();
    const load1 = loadAverage();
    // mysqld's CPU counts every session on the shared server, hence the load average beside it.
    const cpuFigures = {
      nodeCpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
      mysqldCpuSeconds: mysqld0 !== null && mysqld1 !== null ? Math.round((mysqld1 - mysqld0) * 10) / 10 : null,
      loadAverage: [load0, load1],
    };
    ds.subscribers.pop();
    console.log(`expiry run: ${expirySeconds} s, node CPU ${cpuFigures.nodeCpuSeconds} s, mysqld CPU ${cpuFigures.mysqldCpuSeconds} s (load average ${load0} -> ${load1})`);
    console.log('statements of the run by kind (count, total wall ms):');
    for (const [kind, k] of [...byKind.entries()].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${String(k.n).padStart(6)} ${String(Math.round(k.ms)).padStart(8)} ms  ${kind}`);
    if (result.lotsExpired !== lots || result.membersAffected !== members) throw new Error(`expired ${result.lotsExpired} lots of ${result.membersAffected} members, expected ${lots} of ${members}`);
    let auditSeconds: number | null = null;
    if (env('AUDIT') !== '0') {
      const auditing = performance.now();
      const audit = await auditPoints(ds.manager);
      auditSeconds = secondsSince(auditing);
      if (!audit.ok) throw new Error(`audit found ${audit.differences.length} differences, e.g. ${JSON.stringify(audit.differences[0])}`);
      console.log(`audit ok over ${audit.accountsChecked} accounts in ${auditSeconds} s`);
    }
    const summary = { lots, members, batchMembers: batch, seedSeconds, expirySeconds, lotsPerSecond: Math.round(lots / expirySeconds), pointsExpired: result.pointsExpired, ...cpuFigures, auditSeconds };
    console.log('');
    console.log(`expired        ${lots} lots of ${members} members in ${expirySeconds} s (${summary.lotsPerSecond} lots/s)`);
    console.log(`\nJSON ${JSON.stringify(summary)}`);
  } finally {
    await app.stop();
    if (env('KEEP') !== '1') await dropDatabase(mysqlUrl, database);
  }
});
