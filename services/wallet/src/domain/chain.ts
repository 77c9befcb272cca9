/**
 * Tamper evidence: every journal carries SHA-256 over its own content and the previous journal's
 * hash, forming one chain ordered by `seq`. Changing, inserting or deleting any journal or entry
 * breaks the hash of that journal or the link of the next.
 */
import { createHash } from 'node:crypto';
import type { Posting } from './ledger';

/** The `prevHash` of the first journal. */
export const GENESIS_HASH = '0'.repeat(64);

/** What a journal's hash covers. */
export interface JournalContent {
  seq: number;
  id: string;
  kind: string;
  memberId: string | null;
  reference: string | null;
  createdAt: Date;
  /** In line order. */
  postings: readonly Posting[];
}

/**
 * The canonical text of a journal: fixed field order, one line per entry, no locale or float
 * formatting, so the same journal always hashes the same on any machine.
 */
export function canonicalJournal(j: JournalContent): string {
  const head = [j.seq, j.id, j.kind, j.memberId ?? '', j.reference ?? '', j.createdAt.toISOString()].join('|');
  const lines = j.postings.map((p, i) => `${i}|${p.account}|${p.memberId ?? ''}|${p.amount}`);
  return [head, ...lines].join('\n');
}

/** The hash of a journal chained onto `prevHash`. */
export function journalHash(prevHash: string, j: JournalContent): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalJournal(j)).digest('hex');
}
