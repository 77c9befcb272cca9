import type { EntityManager } from 'typeorm';
import { AppError, ErrorCode, affectedRows, newId, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import { GENESIS_HASH } from '../domain/chain';
import { assertBalanced, memberDelta, type JournalKind, type Posting } from '../domain/ledger';
import type { WalletBalances } from '../domain/wallet';
import type { JournalRow } from '../entities/journal.entity';

export const CHAIN_HEAD_ID = 1;

/** Creates the chain head once, so that the sealer needs a single locking read. */
export async function ensureChainHead(em: EntityManager): Promise<void> {
  await em.query('INSERT IGNORE INTO wallet_chain_head (id, seq, hash, updated_at) VALUES (?, 0, ?, ?)', [CHAIN_HEAD_ID, GENESIS_HASH, new Date()]);
}

export interface NewJournal {
  /** Chosen by the caller when a business row must point at it before it is posted. */
  id?: string;
  kind: JournalKind;
  memberId: string;
  reference: string;
  postings: Posting[];
  /** The member's balances as read under their account lock. */
  before: WalletBalances;
}

export interface PostedJournal extends JournalRow {
  after: WalletBalances;
}

/** An internal invariant failed: the caller let through what the ledger cannot hold. */
const ledgerInvariant = (message: string) => new AppError(ErrorCode.INTERNAL_SERVER_ERROR, message);

/** The AUTO_INCREMENT value an INSERT through `em.query` (mysql2) generated. */
function insertId(result: unknown): number {
  const r = (Array.isArray(result) ? result[0] : result) as { insertId?: number | string } | undefined;
  const id = Number(r?.insertId);
  if (!Number.isSafeInteger(id) || id < 1) throw ledgerInvariant('the journal insert returned no seq');
  return id;
}

/**
 * Posts a balanced journal and moves the member's cached balances with it, in the caller's
 * transaction, then announces `wallet.changed`. The caller must hold the member's account lock.
 * The journal is written **unsealed** (no chain position, no hash) with the next AUTO_INCREMENT
 * `seq`: nothing global is locked here. The sealer (ledger-sealer.service.ts) chains committed
 * journals shortly after and moves the system accounts' cached balances with them.
 * Three statements for a journal that moves the member (UPDATE account, INSERT journal, one
 * multi-row INSERT of its entries), two for one that does not (a capture), plus the event.
 */
export async function postJournal(kit: ServiceKit, em: EntityManager, j: NewJournal): Promise<PostedJournal> {
  assertBalanced(j.postings);
  if (j.postings.some((p) => p.memberId !== null && p.memberId !== j.memberId)) throw ledgerInvariant('a journal moves one member at a time');
  const delta = memberDelta(j.postings, j.memberId);
  const after = { principal: j.before.principal + delta.principal, bonus: j.before.bonus + delta.bonus };
  if (after.principal < 0 || after.bonus < 0) throw ledgerInvariant(`journal would take member ${j.memberId} below zero`);
  const now = new Date();
  const movesMember = delta.principal !== 0 || delta.bonus !== 0;

  if (movesMember) {
    // Guarded even though the caller checked under the lock: a balance can never be written below zero.
    const moved = await em.query(
      'UPDATE wallet_account SET principal = principal + ?, bonus = bonus + ?, updated_at = ? WHERE member_id = ? AND principal + ? >= 0 AND bonus + ? >= 0',
      [delta.principal, delta.bonus, now, j.memberId, delta.principal, delta.bonus],
    );
    if (affectedRows(moved) !== 1) throw ledgerInvariant(`wallet ${j.memberId} could not take the movement`);
  }

  const id = j.id ?? newId();
  const seq = insertId(
    await em.query('INSERT INTO wallet_journal (id, kind, member_id, reference, created_at) VALUES (?, ?, ?, ?, ?)', [id, j.kind, j.memberId, j.reference, now]),
  );
  await em.query(
    `INSERT INTO wallet_entry (journal_seq, line, account, member_id, amount) VALUES ${j.postings.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
    j.postings.flatMap((p, line) => [seq, line, p.account, p.memberId, p.amount]),
  );
  const journal: JournalRow = { seq, id, kind: j.kind, memberId: j.memberId, reference: j.reference, createdAt: now, chainPos: null, prevHash: null, hash: null };

  // A journal between system accounts only (a capture of held balance) moves nothing the member sees.
  if (!movesMember) return { ...journal, after };
  await kit.publish(
    em,
    EventType.WalletChanged,
    j.memberId,
    checkedData(EventType.WalletChanged, {
      memberId: j.memberId,
      journalId: id,
      kind: j.kind,
      reference: j.reference,
      principalDelta: delta.principal,
      bonusDelta: delta.bonus,
      principal: after.principal,
      bonus: after.bonus,
    }),
  );
  return { ...journal, after };
}
