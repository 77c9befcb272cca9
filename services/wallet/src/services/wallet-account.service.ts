import { In, type EntityManager } from 'typeorm';
import {
  audit,
  badField,
  bigintColumn,
  decodeCursor,
  isDuplicateKey,
  notFound,
  pageSize,
  toConnection,
  type Connection,
  type ServiceKit,
} from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { WalletConfig } from '../config';
import { WalletAccountEntity, type WalletAccountRow } from '../entities/wallet-account.entity';
import { WalletStatus } from '../domain/wallet';
import type { JournalKind, MemberAccount } from '../domain/ledger';

/**
 * Opens the member's wallet once and announces `wallet.opened` in the same transaction. Returns
 * false when it was open already (a redelivered or repeated registration), which changes nothing.
 */
export async function openWallet(kit: ServiceKit<WalletConfig>, em: EntityManager, memberId: string): Promise<boolean> {
  const now = new Date();
  try {
    // A plain INSERT rather than INSERT IGNORE: IGNORE would also turn strict-mode errors (an
    // over-long id) into warnings and store a truncated key. Only the duplicate is expected.
    await em.getRepository(WalletAccountEntity).insert({
      memberId,
      principal: 0,
      bonus: 0,
      status: WalletStatus.ACTIVE,
      currency: kit.config.WALLET_CURRENCY,
      createdAt: now,
      updatedAt: now,
    });
  } catch (err) {
    // MySQL rolls back only the failed statement: the transaction (and its inbox row) stays good.
    if (isDuplicateKey(err)) return false;
    throw err;
  }
  await kit.publish(em, EventType.WalletOpened, memberId, checkedData(EventType.WalletOpened, { memberId }));
  return true;
}

/** Accounts by member id, in the order asked, null where none is open yet. */
export async function walletsByMemberIds(em: EntityManager, memberIds: readonly string[]): Promise<Array<WalletAccountRow | null>> {
  const rows = await em.getRepository(WalletAccountEntity).findBy({ memberId: In([...memberIds]) });
  const byId = new Map(rows.map((r) => [r.memberId, r]));
  return memberIds.map((id) => byId.get(id) ?? null);
}

/** The member's account locked FOR UPDATE until the transaction ends, or null when none is open. */
export async function lockWallet(em: EntityManager, memberId: string): Promise<WalletAccountRow | null> {
  return em
    .getRepository(WalletAccountEntity)
    .createQueryBuilder('a')
    .where('a.memberId = :memberId', { memberId })
    .setLock('pessimistic_write')
    .getOne();
}

/**
 * Sets the wallet's status by staff, with a reason, audited in the same transaction. Setting the
 * status it already has changes (and audits) nothing.
 */
export async function setWalletStatus(
  em: EntityManager,
  actor: string,
  input: { memberId: string; reason: string },
  status: WalletStatus,
): Promise<WalletAccountRow> {
  const account = await lockWallet(em, input.memberId);
  if (!account) throw notFound('Wallet');
  if (account.status === status) return account;
  const updatedAt = new Date();
  await em.getRepository(WalletAccountEntity).update({ memberId: input.memberId }, { status, updatedAt });
  await audit(em, actor, status === WalletStatus.FROZEN ? 'WALLET_FROZEN' : 'WALLET_UNFROZEN', input.memberId, { reason: input.reason, from: account.status });
  return { ...account, status, updatedAt };
}

/** One journal line on a member's sub-balance, with its journal's facts. */
export interface HistoryLine {
  id: string;
  journalSeq: number;
  line: number;
  journalId: string;
  kind: JournalKind;
  account: MemberAccount;
  amount: number;
  reference: string | null;
  createdAt: Date;
}

const lineKey = (l: { journalSeq: number; line: number }) => `${l.journalSeq}:${l.line}`;

/** A member's journal lines, newest first, as a Relay connection. */
export async function historyPage(
  em: EntityManager,
  memberId: string,
  args: { first?: number | null; after?: string | null },
): Promise<Connection<HistoryLine>> {
  const n = pageSize(args.first);
  const cursor = decodeCursor(args.after);
  let before: [number, number] | null = null;
  if (cursor !== undefined) {
    const m = /^(\d+):(\d+)$/.exec(cursor);
    if (!m) throw badField('after', 'after is not a valid cursor');
    before = [Number(m[1]), Number(m[2])];
  }
  const rows: Array<{ seq: string; line: number; id: string; kind: JournalKind; account: MemberAccount; amount: string; reference: string | null; created_at: Date }> =
    await em.query(
      `SELECT e.journal_seq AS seq, e.line, j.id, j.kind, e.account, e.amount, j.reference, j.created_at
         FROM wallet_entry e JOIN wallet_journal j ON j.seq = e.journal_seq
        WHERE e.member_id = ? ${before ? 'AND (e.journal_seq < ? OR (e.journal_seq = ? AND e.line < ?))' : ''}
        ORDER BY e.journal_seq DESC, e.line DESC
        LIMIT ?`,
      [memberId, ...(before ? [before[0], before[0], before[1]] : []), n + 1],
    );
  const lines = rows.map((r) => ({
    id: lineKey({ journalSeq: Number(r.seq), line: Number(r.line) }),
    journalSeq: Number(r.seq),
    line: Number(r.line),
    journalId: r.id,
    kind: r.kind,
    account: r.account,
    amount: Number(bigintColumn.from(r.amount)),
    reference: r.reference,
    createdAt: new Date(r.created_at),
  }));
  return toConnection(lines, n, lineKey);
}
