import type { EntityManager } from 'typeorm';
import { AppError, ErrorCode, affectedRows, newId, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import { GENESIS_HASH, journalHash } from '../domain/chain';
import { assertBalanced, memberDelta, systemDeltas, type JournalKind, type Posting } from '../domain/ledger';
import type { WalletBalances } from '../domain/wallet';
import { ChainHeadEntity, type ChainHeadRow } from '../entities/chain-head.entity';
import { JournalEntity, type JournalRow } from '../entities/journal.entity';
import { EntryEntity } from '../entities/entry.entity';

export const CHAIN_HEAD_ID = 1;

/** Creates the chain head once, so that appends need a single locking read. */
export async function ensureChainHead(em: EntityManager): Promise<void> {
  await em.query('INSERT IGNORE INTO wallet_chain_head (id, seq, hash, updated_at) VALUES (?, 0, ?, ?)', [CHAIN_HEAD_ID, GENESIS_HASH, new Date()]);
}

async function lockChainHead(em: EntityManager): Promise<ChainHeadRow> {
  const head = await em
    .getRepository(ChainHeadEntity)
    .createQueryBuilder('h')
    .where('h.id = :id', { id: CHAIN_HEAD_ID })
    .setLock('pessimistic_write')
    .getOne();
  if (head) return head;
  // Not seeded (a database migrated but never started): create it, then lock it.
  await ensureChainHead(em);
  return lockChainHead(em);
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

/**
 * Appends a balanced journal to the chain and moves the cached balances with it, in the caller's
 * transaction, then announces `wallet.changed`. The caller must hold the member's account lock
 * (taken first); the chain head is locked here, last, so it is held only for the few statements
 * that follow and the commit.
 */
export async function postJournal(kit: ServiceKit, em: EntityManager, j: NewJournal): Promise<PostedJournal> {
  assertBalanced(j.postings);
  if (j.postings.some((p) => p.memberId !== null && p.memberId !== j.memberId)) throw ledgerInvariant('a journal moves one member at a time');
  const delta = memberDelta(j.postings, j.memberId);
  const after = { principal: j.before.principal + delta.principal, bonus: j.before.bonus + delta.bonus };
  if (after.principal < 0 || after.bonus < 0) throw ledgerInvariant(`journal would take member ${j.memberId} below zero`);
  const now = new Date();

  // Guarded even though the caller checked under the lock: a balance can never be written below zero.
  const moved = await em.query(
    'UPDATE wallet_account SET principal = principal + ?, bonus = bonus + ?, updated_at = ? WHERE member_id = ? AND principal + ? >= 0 AND bonus + ? >= 0',
    [delta.principal, delta.bonus, now, j.memberId, delta.principal, delta.bonus],
  );
  if (affectedRows(moved) !== 1) throw ledgerInvariant(`wallet ${j.memberId} could not take the movement`);

  const head = await lockChainHead(em);
  const journal: JournalRow = {
    seq: head.seq + 1,
    id: j.id ?? newId(),
    kind: j.kind,
    memberId: j.memberId,
    reference: j.reference,
    createdAt: now,
    prevHash: head.hash,
    hash: '',
  };
  journal.hash = journalHash(head.hash, { ...journal, postings: j.postings });
  await em.getRepository(JournalEntity).insert(journal);
  await em.getRepository(EntryEntity).insert(
    j.postings.map((p, line) => ({ journalSeq: journal.seq, line, account: p.account, memberId: p.memberId, amount: p.amount })),
  );
  const system = [...systemDeltas(j.postings)].filter(([, amount]) => amount !== 0);
  if (system.length) {
    await em.query(
      `INSERT INTO wallet_system_account (code, balance, updated_at) VALUES ${system.map(() => '(?, ?, ?)').join(', ')}
       ON DUPLICATE KEY UPDATE balance = balance + VALUES(balance), updated_at = VALUES(updated_at)`,
      system.flatMap(([code, amount]) => [code, amount, now]),
    );
  }
  await em.query('UPDATE wallet_chain_head SET seq = ?, hash = ?, updated_at = ? WHERE id = ?', [journal.seq, journal.hash, now, CHAIN_HEAD_ID]);

  // A journal between system accounts only (a capture of held balance) moves nothing the member sees.
  if (delta.principal === 0 && delta.bonus === 0) return { ...journal, after };
  await kit.publish(
    em,
    EventType.WalletChanged,
    j.memberId,
    checkedData(EventType.WalletChanged, {
      memberId: j.memberId,
      journalId: journal.id,
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
