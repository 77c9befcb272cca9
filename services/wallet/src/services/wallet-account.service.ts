import { In, type EntityManager } from 'typeorm';
import {
  AppError,
  audit,
  businessDay,
  idempotent,
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
import { MemberStatusEntity } from '../entities/member-status.entity';
import { MemberStatus, WalletStatus, walletView, type WalletView } from '../domain/wallet';
import type { JournalKind, MemberAccount } from '../domain/ledger';
import { memberNotActive, walletFrozen } from './errors';
import { checkText } from './top-up.service';

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
      // Nothing spent yet: the daily counter starts known (no history to rebuild).
      riskDay: businessDay(now, kit.config.BUSINESS_TIME_ZONE),
      riskDaySpent: 0,
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

/** An account with the member's status as this service last heard it (ACTIVE when never told otherwise). */
export type AccountWithStatus = WalletAccountRow & { memberStatus: MemberStatus };

async function readWallet(em: EntityManager, memberId: string, lock: boolean): Promise<AccountWithStatus | null> {
  const qb = em
    .getRepository(WalletAccountEntity)
    .createQueryBuilder('a')
    .leftJoin(MemberStatusEntity.options.name, 's', 's.memberId = a.memberId')
    .addSelect('s.status', 'member_status')
    .where('a.memberId = :memberId', { memberId });
  if (lock) qb.setLock('pessimistic_write');
  const { entities, raw } = await qb.getRawAndEntities<{ member_status: string | null }>();
  const account = entities[0];
  if (!account) return null;
  return { ...account, memberStatus: (raw[0]?.member_status ?? MemberStatus.ACTIVE) as MemberStatus };
}

/**
 * The member's account locked FOR UPDATE until the transaction ends, with the member's status read
 * in the same statement (its projection row, when there is one, is locked too), or null when none
 * is open.
 */
export function lockWallet(em: EntityManager, memberId: string): Promise<AccountWithStatus | null> {
  return readWallet(em, memberId, true);
}

/** The member's account and status without a lock (fast refusals before the locked check). */
export function peekWallet(em: EntityManager, memberId: string): Promise<AccountWithStatus | null> {
  return readWallet(em, memberId, false);
}

/**
 * Refuses moving money into or out of the wallet of a FROZEN wallet (staff, risk) or of a member
 * who is not ACTIVE (FROZEN, BLACKLISTED or ERASED in the member service). Money going back
 * (refunds, releases of held balance) never asks this.
 */
export function assertMayMoveMoney(account: AccountWithStatus): void {
  const refusal = moneyRefusal(account);
  if (refusal) throw refusal;
}

/** The CONFLICT refusing money moves for `account` (its `reason`: WALLET_FROZEN, MEMBER_FROZEN...), or null when it may move money. */
export function moneyRefusal(account: AccountWithStatus): AppError | null {
  if (account.status === WalletStatus.FROZEN) return walletFrozen(account.memberId);
  if (account.memberStatus !== MemberStatus.ACTIVE) return memberNotActive(account.memberId, account.memberStatus);
  return null;
}

/**
 * Records the member's status as of `asOf` (from `member.status_changed`), unless a newer one is
 * already known: redelivered or reordered events never move it back.
 */
export async function projectMemberStatus(em: EntityManager, memberId: string, status: string, asOf: Date): Promise<void> {
  await em.query(
    `INSERT INTO wallet_member_status (member_id, status, as_of) VALUES (?, ?, ?)
     ON DUPLICATE KEY UPDATE status = IF(VALUES(as_of) >= as_of, VALUES(status), status), as_of = GREATEST(as_of, VALUES(as_of))`,
    [memberId, status.slice(0, 16), asOf],
  );
}

/** `member.erased`: ERASED for good (a far-future as-of keeps any late status event from overwriting it). The journal, with ids and amounts only, stays. */
export function eraseMember(em: EntityManager, memberId: string): Promise<void> {
  return projectMemberStatus(em, memberId, MemberStatus.ERASED, new Date('9999-12-31T00:00:00Z'));
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

/**
 * `freezeWallet` / `unfreezeWallet`: {@link setWalletStatus} once per idempotency key. A retry with
 * the same member and reason replays the wallet as the first request answered it (also after a
 * restart); another member or reason is CONFLICT.
 */
export async function changeWalletStatus(
  em: EntityManager,
  actor: string,
  input: { memberId: string; reason: string; idempotencyKey: string },
  status: WalletStatus,
): Promise<WalletView & { memberId: string }> {
  checkText('memberId', input.memberId, 26);
  checkText('reason', input.reason, 500);
  checkText('idempotencyKey', input.idempotencyKey, 128);
  const operation = status === WalletStatus.FROZEN ? 'freezeWallet' : 'unfreezeWallet';
  return idempotent(em, { operation, key: input.idempotencyKey, input: { memberId: input.memberId, reason: input.reason } }, async () => {
    const account = await setWalletStatus(em, actor, input, status);
    return { ...walletView(account), memberId: account.memberId };
  });
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
