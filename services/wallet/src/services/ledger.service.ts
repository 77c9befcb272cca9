import type { EntityManager } from 'typeorm';
import { AppError, ErrorCode, affectedRows, createEnvelope, currentTraceparent, newId, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import { GENESIS_HASH } from '../domain/chain';
import type { DailySpend } from '../domain/checkout';
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
  /** The member's daily-cap counter after this journal (a payment taking or giving back balance), written with the balances. */
  riskCounter?: DailySpend;
}

/** A journal written for a member (every journal this service posts). */
export type MemberJournal = JournalRow & { memberId: string; reference: string };

export interface PostedJournal extends MemberJournal {
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

/** Refuses a journal that is not balanced or moves another member than its own. */
function checkJournal(j: Pick<NewJournal, 'memberId' | 'postings'>): void {
  assertBalanced(j.postings);
  if (j.postings.some((p) => p.memberId !== null && p.memberId !== j.memberId)) throw ledgerInvariant('a journal moves one member at a time');
}

/**
 * Writes a journal row **unsealed** (no chain position, no hash; `seq` from the AUTO_INCREMENT) and
 * its entries in one multi-row INSERT: two statements, nothing locked but the new rows. Moving the
 * member's cached balances is the caller's (postJournal, or the lock-last payment).
 */
export async function writeJournal(em: EntityManager, j: Omit<NewJournal, 'before' | 'riskCounter'>, now: Date): Promise<MemberJournal> {
  checkJournal(j);
  const id = j.id ?? newId();
  const seq = insertId(
    await em.query('INSERT INTO wallet_journal (id, kind, member_id, reference, created_at) VALUES (?, ?, ?, ?, ?)', [id, j.kind, j.memberId, j.reference, now]),
  );
  await em.query(
    `INSERT INTO wallet_entry (journal_seq, line, account, member_id, amount) VALUES ${j.postings.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
    j.postings.flatMap((p, line) => [seq, line, p.account, p.memberId, p.amount]),
  );
  return { seq, id, kind: j.kind, memberId: j.memberId, reference: j.reference, createdAt: now, chainPos: null, prevHash: null, hash: null };
}

const walletChangedData = (journal: MemberJournal, delta: WalletBalances, after: WalletBalances) =>
  checkedData(EventType.WalletChanged, {
    memberId: journal.memberId,
    journalId: journal.id,
    kind: journal.kind,
    reference: journal.reference,
    principalDelta: delta.principal,
    bonusDelta: delta.bonus,
    principal: after.principal,
    bonus: after.bonus,
  });

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
  checkJournal(j);
  const delta = memberDelta(j.postings, j.memberId);
  const after = { principal: j.before.principal + delta.principal, bonus: j.before.bonus + delta.bonus };
  if (after.principal < 0 || after.bonus < 0) throw ledgerInvariant(`journal would take member ${j.memberId} below zero`);
  const now = new Date();
  const movesMember = delta.principal !== 0 || delta.bonus !== 0;

  if (movesMember) {
    const counter = j.riskCounter ? [j.riskCounter.day, j.riskCounter.spent] : [];
    // Guarded even though the caller checked under the lock: a balance can never be written below zero.
    const moved = await em.query(
      `UPDATE wallet_account SET principal = principal + ?, bonus = bonus + ?, ${j.riskCounter ? 'risk_day = ?, risk_day_spent = ?, ' : ''}updated_at = ?
        WHERE member_id = ? AND principal + ? >= 0 AND bonus + ? >= 0`,
      [delta.principal, delta.bonus, ...counter, now, j.memberId, delta.principal, delta.bonus],
    );
    if (affectedRows(moved) !== 1) throw ledgerInvariant(`wallet ${j.memberId} could not take the movement`);
  }

  const journal = await writeJournal(em, j, now);
  // A journal between system accounts only (a capture of held balance) moves nothing the member sees.
  if (!movesMember) return { ...journal, after };
  await kit.publish(em, EventType.WalletChanged, j.memberId, walletChangedData(journal, delta, after));
  return { ...journal, after };
}

/**
 * Announces `wallet.changed` for `journal`, whose move of the member's balances this transaction
 * has already applied (the member's row is locked by it): the balances after it are read from the
 * account row by the INSERT ... SELECT itself, so writing the event costs one statement under the
 * lock rather than a read and a write. The row is written only while `guard` (an SQL condition on
 * the account row `a`, evaluated now, after the lock) holds; returns whether it was.
 * This writes the kit's `outbox` row itself (the envelope is the kit's own `createEnvelope`, as
 * `enqueueEvent` would write it): the kit has no INSERT ... SELECT variant.
 */
export async function announceFromAccount(
  kit: ServiceKit,
  em: EntityManager,
  journal: MemberJournal,
  delta: WalletBalances,
  guard: { sql: string; params: unknown[] },
): Promise<boolean> {
  // Placeholders for the validation; the statement sets the real (never negative: the move was guarded) balances.
  const data = walletChangedData(journal, delta, { principal: 0, bonus: 0 });
  const envelope = createEnvelope({ type: EventType.WalletChanged, source: kit.name, subject: journal.memberId, data, traceparent: currentTraceparent() });
  const written = await em.query(
    `INSERT INTO outbox (id, type, subject, payload, traceparent, created_at)
     SELECT ?, ?, ?, JSON_SET(?, '$.data.principal', a.principal, '$.data.bonus', a.bonus), ?, ?
       FROM wallet_account a
      WHERE a.member_id = ? AND ${guard.sql}`,
    [envelope.id, envelope.type, envelope.subject, JSON.stringify(envelope), envelope.traceparent ?? null, new Date(envelope.time), journal.memberId, ...guard.params],
  );
  return affectedRows(written) === 1;
}
