/**
 * The sealer: chains posted (unsealed) journals into the single hash chain, in batches, and moves
 * the system accounts' cached balances with them.
 *
 * Why this is sound without knowing which transactions are still in flight: a journal's place in
 * the chain is NOT its `seq` (an AUTO_INCREMENT handed out at insert, so seqs commit out of order
 * and leave gaps where a transaction rolled back) but `chain_pos`, given here, dense from 1. A batch
 * locks the chain head, then reads (READ COMMITTED: a fresh snapshot taken after the lock) the
 * committed journals that have no `chain_pos` yet, in `seq` order, and chains them after the head.
 * A journal whose transaction is still open is invisible to that read; it gets a later position in
 * a later batch once it commits, whatever its `seq`. So no committed journal is ever skipped or
 * sealed twice (positions come only from the locked head, `chain_pos` is UNIQUE), rolled-back seqs
 * never leave a hole in the chain, and no timing assumption is needed (a settle delay would be
 * wrong for a transaction that stays open longer than the delay: lock waits, a paused process).
 * A journal and its entries commit together, so a visible journal's entries are all visible.
 *
 * What it costs in tamper evidence: between its commit and its batch (one sealer interval,
 * default 100 ms, or the next `walletAudit`, which seals first) a journal is not yet covered by a
 * hash, so a writer with SQL access could change it unnoticed in that window; balance checks
 * (balanced journals, cached balances against entries) still apply to it. Once sealed, changing,
 * inserting or deleting a journal or entry is caught exactly as before. A journal left unsealed
 * longer than UNSEALED_GRACE_MS is reported by the audit.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { affectedRows, unitOfWork, type ServiceKit } from '@membergraph/platform';
import { journalHash } from '../domain/chain';
import { systemDeltas, type AccountCode, type JournalKind, type Posting } from '../domain/ledger';
import type { WalletConfig } from '../config';
import { CHAIN_HEAD_ID, ensureChainHead } from './ledger.service';

/** Journals chained per transaction. */
export const SEAL_BATCH = 500;

const num = (v: unknown) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`sealer: ${String(v)} is not an exact integer`);
  return n;
};

async function lockHead(em: EntityManager): Promise<{ pos: number; hash: string }> {
  const [head] = (await em.query('SELECT seq, hash FROM wallet_chain_head WHERE id = ? FOR UPDATE', [CHAIN_HEAD_ID])) as Array<{ seq: string; hash: string }>;
  if (head) return { pos: num(head.seq), hash: head.hash };
  // Not seeded (a database migrated but never started): create it, then lock it.
  await ensureChainHead(em);
  return lockHead(em);
}

/**
 * Seals up to `limit` committed journals in one transaction (6 statements whatever the batch size):
 * lock the head, read the journals and their entries, set chain_pos/prev_hash/hash, add the system
 * deltas, move the head. Returns how many it sealed.
 */
export async function sealBatch(ds: DataSource, limit = SEAL_BATCH): Promise<number> {
  return unitOfWork(ds, async (em) => {
    const head = await lockHead(em);
    const journals: Array<{ seq: string; id: string; kind: JournalKind; member_id: string | null; reference: string | null; created_at: Date }> = await em.query(
      'SELECT seq, id, kind, member_id, reference, created_at FROM wallet_journal WHERE chain_pos IS NULL ORDER BY seq LIMIT ?',
      [limit],
    );
    if (!journals.length) return 0;
    const seqs = journals.map((j) => num(j.seq));
    const entries: Array<{ journal_seq: string; account: AccountCode; member_id: string | null; amount: string }> = await em.query(
      'SELECT journal_seq, account, member_id, amount FROM wallet_entry WHERE journal_seq IN (?) ORDER BY journal_seq, line',
      [seqs],
    );
    const bySeq = new Map<number, Posting[]>();
    for (const e of entries) {
      const seq = num(e.journal_seq);
      const list = bySeq.get(seq) ?? bySeq.set(seq, []).get(seq)!;
      list.push({ account: e.account, memberId: e.member_id, amount: num(e.amount) });
    }

    let pos = head.pos;
    let prevHash = head.hash;
    const sealed: Array<[seq: number, pos: number, prevHash: string, hash: string]> = [];
    const system = new Map<string, number>();
    for (const j of journals) {
      const seq = num(j.seq);
      const postings = bySeq.get(seq) ?? [];
      const hash = journalHash(prevHash, { seq, id: j.id, kind: j.kind, memberId: j.member_id, reference: j.reference, createdAt: new Date(j.created_at), postings });
      sealed.push([seq, ++pos, prevHash, hash]);
      prevHash = hash;
      for (const [code, amount] of systemDeltas(postings)) system.set(code, (system.get(code) ?? 0) + amount);
    }

    const cases = (pick: (s: (typeof sealed)[number]) => unknown) => ({ sql: `CASE seq ${sealed.map(() => 'WHEN ? THEN ?').join(' ')} END`, params: sealed.flatMap((s) => [s[0], pick(s)]) });
    const [p, prev, h] = [cases((s) => s[1]), cases((s) => s[2]), cases((s) => s[3])];
    const res = await em.query(`UPDATE wallet_journal SET chain_pos = ${p.sql}, prev_hash = ${prev.sql}, hash = ${h.sql} WHERE seq IN (?) AND chain_pos IS NULL`, [
      ...p.params,
      ...prev.params,
      ...h.params,
      seqs,
    ]);
    if (affectedRows(res) !== sealed.length) throw new Error(`sealer: sealed ${affectedRows(res)} of ${sealed.length} journals; another sealer raced without the head lock`);

    const now = new Date();
    const moved = [...system].filter(([, amount]) => amount !== 0);
    if (moved.length) {
      await em.query(
        `INSERT INTO wallet_system_account (code, balance, updated_at) VALUES ${moved.map(() => '(?, ?, ?)').join(', ')}
         ON DUPLICATE KEY UPDATE balance = balance + VALUES(balance), updated_at = VALUES(updated_at)`,
        moved.flatMap(([code, amount]) => [code, amount, now]),
      );
    }
    await em.query('UPDATE wallet_chain_head SET seq = ?, hash = ?, updated_at = ? WHERE id = ?', [pos, prevHash, now, CHAIN_HEAD_ID]);
    return sealed.length;
  });
}

/** Seals every journal committed so far (tests, the audit, shutdown); returns how many. */
export async function sealJournals(ds: DataSource): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await sealBatch(ds);
    total += n;
    if (n < SEAL_BATCH) return total;
  }
}

/**
 * The sealer as a kit worker: seals whatever has committed every JOURNAL_SEAL_INTERVAL_MS (at once
 * again while batches come back full). Replicas may each run one: they take turns on the head lock.
 */
export class JournalSealer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly kit: ServiceKit<WalletConfig>) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    // What committed up to now is sealed before the process goes (best effort: the next start or audit seals the rest).
    await sealJournals(this.kit.ds).catch((err) => this.kit.log.warn({ err }, 'journal sealing at stop failed'));
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = sealBatch(this.kit.ds)
        .then((n) => n, (err) => {
          this.kit.log.error({ err }, 'journal sealing failed; retried');
          return 0;
        })
        .then((n) => {
          this.running = undefined;
          this.schedule(n === SEAL_BATCH ? 0 : this.kit.config.JOURNAL_SEAL_INTERVAL_MS);
        });
    }, ms);
  }
}
