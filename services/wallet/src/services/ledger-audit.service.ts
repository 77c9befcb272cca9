import type { DataSource, EntityManager } from 'typeorm';
import { unitOfWork } from '@membergraph/platform';
import { GENESIS_HASH, journalHash } from '../domain/chain';
import { sealJournals } from './ledger-sealer.service';
import { SystemAccount, journalDefect, type AccountCode, type JournalKind, type Posting } from '../domain/ledger';

export const AuditDifferenceKind = {
  UNBALANCED_JOURNAL: 'UNBALANCED_JOURNAL',
  ACCOUNT_MISMATCH: 'ACCOUNT_MISMATCH',
  LIABILITY_MISMATCH: 'LIABILITY_MISMATCH',
  NEGATIVE_BALANCE: 'NEGATIVE_BALANCE',
  HASH_MISMATCH: 'HASH_MISMATCH',
  CHAIN_BROKEN: 'CHAIN_BROKEN',
} as const;
export type AuditDifferenceKind = (typeof AuditDifferenceKind)[keyof typeof AuditDifferenceKind];

export interface AuditDifference {
  kind: AuditDifferenceKind;
  detail: string;
}

export interface AuditReport {
  ok: boolean;
  journalsChecked: number;
  differences: AuditDifference[];
}

const MAX_DIFFERENCES = 100;
const BATCH = 1_000;

const num = (v: unknown) => {
  const n = Number(v ?? 0);
  if (!Number.isSafeInteger(n)) throw new Error(`audit: ${String(v)} is not an exact integer`);
  return n;
};

/**
 * Seals what has been committed (sealJournals), then verifies the whole ledger from one consistent
 * snapshot (REPEATABLE READ): every journal is balanced, every sealed one correctly hashed onto its
 * predecessor in a dense chain, none left unsealed past UNSEALED_GRACE_MS, every cached balance
 * equals the sum of its entries, no member balance is negative, and the members' balances equal the
 * liability account (its cached balance plus what unsealed journals move).
 */
export async function auditLedger(ds: DataSource): Promise<AuditReport> {
  await sealJournals(ds);
  return unitOfWork(
    ds,
    async (em) => {
      const differences: AuditDifference[] = [];
      let total = 0;
      const add = (kind: AuditDifferenceKind, detail: string) => {
        total++;
        if (differences.length < MAX_DIFFERENCES) differences.push({ kind, detail });
      };
      const journalsChecked = await auditChain(em, add);
      await auditAccounts(em, add);
      if (total > differences.length) differences[differences.length - 1] = { ...differences.at(-1)!, detail: `${differences.at(-1)!.detail} (and ${total - differences.length} more differences)` };
      return { ok: total === 0, journalsChecked, differences };
    },
    { isolation: 'REPEATABLE READ' },
  );
}

type Add = (kind: AuditDifferenceKind, detail: string) => void;

/** A committed journal still unsealed this long after it was posted is reported (the sealer runs every 100 ms). */
export const UNSEALED_GRACE_MS = 60_000;

type JournalLine = { seq: string; chain_pos: string | null; id: string; kind: JournalKind; member_id: string | null; reference: string | null; created_at: Date; prev_hash: string | null; hash: string | null };

async function postingsOf(em: EntityManager, journals: JournalLine[]): Promise<Map<number, Posting[]>> {
  const bySeq = new Map<number, Posting[]>();
  if (!journals.length) return bySeq;
  const entries: Array<{ journal_seq: string; account: AccountCode; member_id: string | null; amount: string }> = await em.query(
    'SELECT journal_seq, account, member_id, amount FROM wallet_entry WHERE journal_seq IN (?) ORDER BY journal_seq, line',
    [journals.map((j) => num(j.seq))],
  );
  for (const e of entries) {
    const seq = num(e.journal_seq);
    const list = bySeq.get(seq) ?? bySeq.set(seq, []).get(seq)!;
    list.push({ account: e.account, memberId: e.member_id, amount: num(e.amount) });
  }
  return bySeq;
}

/**
 * The chain in `chain_pos` order (dense from 1, each hash over its content and the one before),
 * then the journals not sealed yet (balance only: they are not covered by a hash until sealed).
 */
async function auditChain(em: EntityManager, add: Add): Promise<number> {
  let expectedPos = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  const columns = 'seq, chain_pos, id, kind, member_id, reference, created_at, prev_hash, hash';
  for (;;) {
    const journals: JournalLine[] = await em.query(`SELECT ${columns} FROM wallet_journal WHERE chain_pos >= ? ORDER BY chain_pos LIMIT ?`, [expectedPos, BATCH]);
    if (!journals.length) break;
    const bySeq = await postingsOf(em, journals);
    for (const j of journals) {
      const seq = num(j.seq);
      const pos = num(j.chain_pos);
      if (pos !== expectedPos) add(AuditDifferenceKind.CHAIN_BROKEN, `journal ${j.id} (seq ${seq}): chain position ${pos} follows ${expectedPos - 1} (positions ${expectedPos}..${pos - 1} missing)`);
      if (j.prev_hash !== prevHash) add(AuditDifferenceKind.CHAIN_BROKEN, `journal ${j.id} (seq ${seq}): prev_hash does not link to the journal before it`);
      const postings = bySeq.get(seq) ?? [];
      const recomputed = journalHash(prevHash, {
        seq,
        id: j.id,
        kind: j.kind,
        memberId: j.member_id,
        reference: j.reference,
        createdAt: new Date(j.created_at),
        postings,
      });
      if (recomputed !== j.hash) add(AuditDifferenceKind.HASH_MISMATCH, `journal ${j.id} (seq ${seq}): stored hash does not match its content`);
      const defect = journalDefect(postings);
      if (defect) add(AuditDifferenceKind.UNBALANCED_JOURNAL, `journal ${j.id} (seq ${seq}): ${defect}`);
      // Continue from the stored hash so one tampered journal is reported once, not for every later one.
      prevHash = j.hash ?? '';
      expectedPos = pos + 1;
      checked++;
    }
  }
  const [head] = (await em.query('SELECT seq, hash FROM wallet_chain_head WHERE id = 1')) as Array<{ seq: string; hash: string }>;
  const headPos = head ? num(head.seq) : 0;
  const headHash = head ? head.hash : GENESIS_HASH;
  if (headPos !== expectedPos - 1 || headHash !== prevHash) {
    add(AuditDifferenceKind.CHAIN_BROKEN, `chain head is at position ${headPos}, the last sealed journal at ${expectedPos - 1}${headHash !== prevHash ? ' with another hash' : ''}`);
  }

  // Posted but not sealed yet (committed after the audit's own sealing pass): balanced, and not left behind.
  const staleBefore = Date.now() - UNSEALED_GRACE_MS;
  for (let after = 0; ; ) {
    const journals: JournalLine[] = await em.query(`SELECT ${columns} FROM wallet_journal WHERE chain_pos IS NULL AND seq > ? ORDER BY seq LIMIT ?`, [after, BATCH]);
    if (!journals.length) break;
    const bySeq = await postingsOf(em, journals);
    for (const j of journals) {
      const seq = num(j.seq);
      const defect = journalDefect(bySeq.get(seq) ?? []);
      if (defect) add(AuditDifferenceKind.UNBALANCED_JOURNAL, `journal ${j.id} (seq ${seq}, unsealed): ${defect}`);
      if (j.prev_hash !== null || j.hash !== null) add(AuditDifferenceKind.CHAIN_BROKEN, `journal ${j.id} (seq ${seq}) has a hash but no chain position`);
      else if (new Date(j.created_at).getTime() < staleBefore) add(AuditDifferenceKind.CHAIN_BROKEN, `journal ${j.id} (seq ${seq}) is still unsealed ${Math.round((Date.now() - new Date(j.created_at).getTime()) / 1000)} s after it was posted`);
      after = seq;
      checked++;
    }
  }

  const orphans: Array<{ journal_seq: string }> = await em.query(
    'SELECT DISTINCT e.journal_seq FROM wallet_entry e LEFT JOIN wallet_journal j ON j.seq = e.journal_seq WHERE j.seq IS NULL LIMIT 10',
  );
  for (const o of orphans) add(AuditDifferenceKind.CHAIN_BROKEN, `entries of journal seq ${o.journal_seq} have no journal`);
  return checked;
}

async function auditAccounts(em: EntityManager, add: Add): Promise<void> {
  // System accounts: cached balance versus the sum of entries, both ways round. The sealer moves
  // the cached balances, so they hold the sealed journals; the unsealed ones' entries are added apart.
  const system: Array<{ code: string; cached: string | null; summed: string | null; pending: string | null }> = await em.query(
    `SELECT code, MAX(cached) AS cached, MAX(summed) AS summed, MAX(pending) AS pending FROM (
       SELECT code, balance AS cached, NULL AS summed, NULL AS pending FROM wallet_system_account
       UNION ALL
       SELECT e.account AS code, NULL AS cached,
              SUM(CASE WHEN j.chain_pos IS NOT NULL THEN e.amount ELSE 0 END) AS summed,
              SUM(CASE WHEN j.chain_pos IS NULL THEN e.amount ELSE 0 END) AS pending
         FROM wallet_entry e JOIN wallet_journal j ON j.seq = e.journal_seq WHERE e.member_id IS NULL GROUP BY e.account
     ) x GROUP BY code`,
  );
  let liability = 0;
  for (const s of system) {
    const cached = num(s.cached);
    const summed = num(s.summed);
    if (cached !== summed) add(AuditDifferenceKind.ACCOUNT_MISMATCH, `system account ${s.code}: balance ${cached}, entries sum to ${summed}`);
    if (s.code === SystemAccount.SV_LIABILITY) liability = cached + num(s.pending);
  }

  // Member sub-accounts: cached principal/bonus versus the sum of their entries.
  const members: Array<{ member_id: string; principal: string | null; bonus: string | null; p: string | null; b: string | null; has_account: number }> = await em.query(
    `SELECT member_id, MAX(principal) AS principal, MAX(bonus) AS bonus, MAX(p) AS p, MAX(b) AS b, MAX(has_account) AS has_account FROM (
       SELECT member_id, principal, bonus, NULL AS p, NULL AS b, 1 AS has_account FROM wallet_account
       UNION ALL
       SELECT member_id, NULL, NULL,
              SUM(CASE WHEN account = 'PRINCIPAL' THEN amount ELSE 0 END),
              SUM(CASE WHEN account = 'BONUS' THEN amount ELSE 0 END), 0
         FROM wallet_entry WHERE member_id IS NOT NULL GROUP BY member_id
     ) x GROUP BY member_id
     HAVING COALESCE(MAX(principal), 0) <> COALESCE(MAX(p), 0) OR COALESCE(MAX(bonus), 0) <> COALESCE(MAX(b), 0)
         OR MAX(principal) < 0 OR MAX(bonus) < 0 OR MAX(has_account) = 0
     LIMIT ${MAX_DIFFERENCES}`,
  );
  for (const m of members) {
    if (!m.has_account) {
      add(AuditDifferenceKind.ACCOUNT_MISMATCH, `member ${m.member_id}: entries without a wallet account`);
      continue;
    }
    const [principal, bonus, p, b] = [num(m.principal), num(m.bonus), num(m.p), num(m.b)];
    if (principal !== p) add(AuditDifferenceKind.ACCOUNT_MISMATCH, `member ${m.member_id} PRINCIPAL: balance ${principal}, entries sum to ${p}`);
    if (bonus !== b) add(AuditDifferenceKind.ACCOUNT_MISMATCH, `member ${m.member_id} BONUS: balance ${bonus}, entries sum to ${b}`);
    if (principal < 0 || bonus < 0) add(AuditDifferenceKind.NEGATIVE_BALANCE, `member ${m.member_id}: principal ${principal}, bonus ${bonus}`);
  }

  const [totals] = (await em.query('SELECT COALESCE(SUM(principal), 0) AS p, COALESCE(SUM(bonus), 0) AS b FROM wallet_account')) as Array<{ p: string; b: string }>;
  const owed = num(totals?.p) + num(totals?.b);
  if (owed !== liability) add(AuditDifferenceKind.LIABILITY_MISMATCH, `member balances sum to ${owed}, ${SystemAccount.SV_LIABILITY} holds ${liability}`);
}
