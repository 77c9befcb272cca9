import { In, LessThan, MoreThan, type EntityManager, type FindOptionsWhere } from 'typeorm';
import {
  AppError,
  ErrorCode,
  bigintColumn,
  decodeCursor,
  isDuplicateKey,
  lockOrCreate,
  newId,
  pageSize,
  toConnection,
  type Connection,
  type ServiceKit,
} from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import { expiryPolicyOf, type PointsConfig } from '../config';
import { PointsAccountEntity, type PointsAccountRow } from '../entities/points-account.entity';
import { PointsEntryEntity, type PointsEntryRow } from '../entities/points-entry.entity';
import { PointsLotEntity, type PointsLotRow } from '../entities/points-lot.entity';
import { lotExpiry } from '../domain/expiry';
import { EntryType, applyEntry, availableOf, type AccountTotals, type EarnReason } from '../domain/ledger';
import { NotEnoughInLotsError, pickLots } from '../domain/lots';
import { allocateRepayment, type Debt } from '../domain/refunds';

export interface EarnInput {
  memberId: string;
  amount: number;
  reason: EarnReason;
  reference: string | null;
  idempotencyKey: string;
  /** When the points were earned (their lot's expiry counts from it); now by default. */
  at?: Date;
  /** Why it is less than asked (a daily cap). */
  note?: string | null;
  /** At most this many days of validity (a promotion's `expiryDays`); the policy's expiry when shorter or absent. */
  expiryDays?: number | null;
  /** The account's totals as this transaction read them under its lock: the account is not locked (and read) again. */
  locked?: AccountTotals;
}

export interface CreditInput {
  memberId: string;
  type: typeof EntryType.EARN | typeof EntryType.ADJUST;
  /** Positive. */
  amount: number;
  reason: string;
  reference: string | null;
  idempotencyKey: string;
  operator?: string | null;
  note?: string | null;
  at?: Date;
  /** At most this many days of validity for the new lot (a promotion's); the policy's expiry when shorter or absent. */
  expiryDays?: number | null;
  /** The account's totals as this transaction read them under its lock: the account is not locked (and read) again. */
  locked?: AccountTotals;
}

export interface DebitInput {
  memberId: string;
  type: typeof EntryType.SPEND | typeof EntryType.ADJUST;
  /** Positive: the points taken. */
  amount: number;
  reason: string;
  reference: string | null;
  idempotencyKey: string;
  operator?: string | null;
  note?: string | null;
  at?: Date;
}

export const insufficientFunds = (available: number, asked: number) =>
  new AppError(ErrorCode.INSUFFICIENT_FUNDS, `The account has ${available} points available, ${asked} asked`, { available, asked });

/** The member's account, created if missing, locked for the rest of the transaction. */
export async function lockAccount(em: EntityManager, memberId: string): Promise<AccountTotals> {
  const account = await lockOrCreate(em, PointsAccountEntity, { memberId, balance: 0, held: 0, lifetimeEarned: 0, updatedAt: new Date() });
  return { balance: account.balance, lifetimeEarned: account.lifetimeEarned, held: account.held };
}

/**
 * The member's account locked for the rest of the transaction, or null when the member has none yet
 * (nothing is created: a member who turns out not to earn gets no empty account). One round trip.
 */
export async function lockExistingAccount(em: EntityManager, memberId: string): Promise<AccountTotals | null> {
  const [row] = (await em.query('SELECT balance, held, lifetime_earned FROM points_account WHERE member_id = ? FOR UPDATE', [memberId])) as Array<{
    balance: string;
    held: string;
    lifetime_earned: string;
  }>;
  if (!row) return null;
  const n = (v: string) => bigintColumn.from(v) as number;
  return { balance: n(row.balance), held: n(row.held), lifetimeEarned: n(row.lifetime_earned) };
}

/** The member's lots that still hold points, in spending order (call with the account locked). */
export function spendableLots(em: EntityManager, memberId: string): Promise<PointsLotRow[]> {
  return em.getRepository(PointsLotEntity).find({
    where: { memberId, remaining: MoreThan(0) },
    order: { expiresAt: 'ASC', earnedAt: 'ASC', id: 'ASC' },
  });
}

/**
 * Records that `entryId` took `draws` from the member's lots and lowers the lots by as much, in two
 * statements. A repeated (entry, lot) pair adds to the draw: a debt is repaid from a lot piece by piece.
 * Negative draws give points back (RELEASE).
 */
export async function recordDraws(em: EntityManager, memberId: string, draws: ReadonlyArray<{ entryId: string; lotId: string; amount: number }>): Promise<void> {
  if (!draws.length) return;
  await em.query(
    `INSERT INTO points_draw (entry_id, lot_id, member_id, amount) VALUES ${draws.map(() => '(?, ?, ?, ?)').join(', ')}
     ON DUPLICATE KEY UPDATE amount = amount + VALUES(amount)`,
    draws.flatMap((d) => [d.entryId, d.lotId, memberId, d.amount]),
  );
  const perLot = new Map<string, number>();
  for (const d of draws) perLot.set(d.lotId, (perLot.get(d.lotId) ?? 0) + d.amount);
  // One statement for all the lots drawn from.
  await em.query(
    `UPDATE points_lot SET remaining = remaining - CASE id ${[...perLot].map(() => 'WHEN ? THEN ?').join(' ')} END WHERE id IN (?)`,
    [...[...perLot].flatMap(([lotId, amount]) => [lotId, amount]), [...perLot.keys()]],
  );
}

/** Debit entries (REVERSE) that took more than the lots held, oldest first, with what each still owes. */
export async function outstandingDebts(em: EntityManager, memberId: string): Promise<Debt[]> {
  const rows: Array<{ id: string; owed: string }> = await em.query(
    `SELECT e.id, -e.amount - COALESCE(SUM(d.amount), 0) AS owed
       FROM points_entry e LEFT JOIN points_draw d ON d.entry_id = e.id
      WHERE e.member_id = ? AND e.type = 'REVERSE'
      GROUP BY e.id, e.amount HAVING owed > 0 ORDER BY e.id`,
    [memberId],
  );
  return rows.map((r) => ({ entryId: r.id, owed: Number(r.owed) }));
}

/**
 * New points (a credit, a released hold) repay debt first: `amount` points are taken from the
 * lots FIFO and recorded as draws of the entries that went into debt. The balance does not move
 * (the debt is already in it); only the lots catch up with it. Call with the account locked.
 */
export async function repayDebt(em: EntityManager, memberId: string, amount: number): Promise<void> {
  if (amount <= 0) return;
  const draws = pickLots(await spendableLots(em, memberId), amount);
  await recordDraws(em, memberId, allocateRepayment(draws, await outstandingDebts(em, memberId)));
}

/** A ledger row with a fresh id; entries that reserve nothing and carry no operator or note leave those at their defaults. */
export function newEntry(
  fields: Omit<PointsEntryRow, 'id' | 'held' | 'operator' | 'note'> & Partial<Pick<PointsEntryRow, 'held' | 'operator' | 'note'>>,
): PointsEntryRow {
  return { id: newId(), held: 0, operator: null, note: null, ...fields };
}

const ENTRY_COLUMNS = 'id, member_id, type, amount, held, balance_after, reason, reference, idempotency_key, operator, note, created_at';

function entryValues(entry: PointsEntryRow): unknown[] {
  return [
    entry.id,
    entry.memberId,
    entry.type,
    entry.amount,
    entry.held,
    entry.balanceAfter,
    entry.reason,
    entry.reference,
    entry.idempotencyKey,
    entry.operator ?? null,
    entry.note ?? null,
    entry.createdAt,
  ];
}

/**
 * Inserts `entries` in one multi-row INSERT (a chunk of an expiry run). Written by hand: TypeORM's
 * insert builder costs time quadratic in the number of parameters of a large insert.
 */
export async function appendEntries(em: EntityManager, entries: readonly PointsEntryRow[]): Promise<void> {
  if (!entries.length) return;
  await em.query(`INSERT INTO points_entry (${ENTRY_COLUMNS}) VALUES ${entries.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`, entries.flatMap(entryValues));
}

/** Inserts `entry`; false when its idempotency key is already in the ledger. */
export async function appendEntry(em: EntityManager, entry: PointsEntryRow): Promise<boolean> {
  try {
    // Plain SQL: on the earning path TypeORM's insert builder costs more CPU than the round trip.
    await em.query(`INSERT INTO points_entry (${ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, entryValues(entry));
    return true;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // MySQL rolls back only the failed statement: the transaction (and its inbox row) stays good.
    return false;
  }
}

/**
 * Credits points once per idempotency key: appends an EARN or ADJUST entry, opens a lot with the
 * configured expiry (or sooner: `expiryDays`), moves the balance and announces it (`points.earned` / `points.adjusted`),
 * all in the caller's transaction. A key already in the ledger changes nothing and returns null.
 */
export async function creditPoints(kit: ServiceKit<PointsConfig>, em: EntityManager, input: CreditInput): Promise<PointsEntryRow | null> {
  const at = input.at ?? new Date();
  const before = input.locked ?? (await lockAccount(em, input.memberId));
  const after = applyEntry(before, input.type, input.amount);
  const entry = newEntry({
    memberId: input.memberId,
    type: input.type,
    amount: input.amount,
    balanceAfter: after.balance,
    reason: input.reason,
    reference: input.reference,
    idempotencyKey: input.idempotencyKey,
    operator: input.operator ?? null,
    note: input.note ?? null,
    createdAt: at,
  });
  if (!(await appendEntry(em, entry))) {
    const first = await em.getRepository(PointsEntryEntity).findOneBy({ idempotencyKey: input.idempotencyKey });
    if (first && (first.memberId !== input.memberId || first.amount !== input.amount)) {
      kit.log.warn({ idempotencyKey: input.idempotencyKey, first: first.id, memberId: input.memberId, amount: input.amount }, 'points credit repeated with different facts; kept the first');
    }
    return null;
  }
  await em.query('INSERT INTO points_lot (id, member_id, entry_id, amount, remaining, earned_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
    newId(),
    input.memberId,
    entry.id,
    input.amount,
    input.amount,
    at,
    lotExpiry(at, expiryPolicyOf(kit.config), input.expiryDays),
  ]);
  // In debt, the new lot pays it off first: the member can spend only what is left over.
  const available = availableOf(before);
  if (available < 0) await repayDebt(em, input.memberId, Math.min(input.amount, -available));
  await em.query('UPDATE points_account SET balance = ?, lifetime_earned = ?, updated_at = ? WHERE member_id = ?', [after.balance, after.lifetimeEarned, at, input.memberId]);
  if (input.type === EntryType.EARN) {
    await kit.publish(
      em,
      EventType.PointsEarned,
      input.memberId,
      checkedData(EventType.PointsEarned, {
        memberId: input.memberId,
        entryId: entry.id,
        amount: entry.amount,
        balance: after.balance,
        reason: entry.reason,
        reference: entry.reference,
      }),
    );
  } else {
    await publishAdjusted(kit, em, entry);
  }
  return entry;
}

/** Earned points (welcome, orders): an EARN credit. */
export function earnPoints(kit: ServiceKit<PointsConfig>, em: EntityManager, input: EarnInput): Promise<PointsEntryRow | null> {
  return creditPoints(kit, em, { ...input, type: EntryType.EARN });
}

async function publishAdjusted(kit: ServiceKit<PointsConfig>, em: EntityManager, entry: PointsEntryRow) {
  await kit.publish(
    em,
    EventType.PointsAdjusted,
    entry.memberId,
    checkedData(EventType.PointsAdjusted, {
      memberId: entry.memberId,
      entryId: entry.id,
      delta: entry.amount,
      balance: entry.balanceAfter,
      operator: entry.operator ?? 'system',
    }),
  );
}

/**
 * Takes points from the account: never more than is available (INSUFFICIENT_FUNDS; points on
 * hold are not available), drawing from the lots that
 * expire soonest first and recording every draw. Lots past their expiry that no run has taken yet
 * are still part of the balance, so they are spent first rather than lost.
 */
export async function debitPoints(kit: ServiceKit<PointsConfig>, em: EntityManager, input: DebitInput): Promise<PointsEntryRow> {
  const at = input.at ?? new Date();
  // The account lock serialises every writer of this member's lots (credits, debits, expiry runs).
  const before = await lockAccount(em, input.memberId);
  // Points on hold are promised to a checkout: only the available rest can be taken.
  const available = availableOf(before);
  if (available < input.amount) throw insufficientFunds(available, input.amount);
  const after = applyEntry(before, input.type, -input.amount);
  let draws;
  try {
    draws = pickLots(await spendableLots(em, input.memberId), input.amount);
  } catch (err) {
    // The balance said yes and the lots say no: the ledger is inconsistent; refuse rather than guess.
    if (err instanceof NotEnoughInLotsError) throw new Error(`points lots of ${input.memberId} hold ${err.available}, available ${available}: run pointsAudit`);
    throw err;
  }
  const entry = newEntry({
    memberId: input.memberId,
    type: input.type,
    amount: -input.amount,
    balanceAfter: after.balance,
    reason: input.reason,
    reference: input.reference,
    idempotencyKey: input.idempotencyKey,
    operator: input.operator ?? null,
    note: input.note ?? null,
    createdAt: at,
  });
  if (!(await appendEntry(em, entry))) throw new AppError(ErrorCode.CONFLICT, `ledger entry ${input.idempotencyKey} already exists`);
  await recordDraws(em, input.memberId, draws.map((d) => ({ ...d, entryId: entry.id })));
  await em.getRepository(PointsAccountEntity).update({ memberId: input.memberId }, { balance: after.balance, updatedAt: at });
  if (input.type === EntryType.ADJUST) await publishAdjusted(kit, em, entry);
  return entry;
}

/** Accounts by member id, in the order asked, null where no account exists yet. */
export async function accountsByMemberIds(em: EntityManager, memberIds: readonly string[]): Promise<Array<PointsAccountRow | null>> {
  const rows = await em.getRepository(PointsAccountEntity).findBy({ memberId: In([...memberIds]) });
  const byId = new Map(rows.map((r) => [r.memberId, r]));
  return memberIds.map((id) => byId.get(id) ?? null);
}

/** A member's ledger, newest first, as a Relay connection; optionally one type of entry only. */
export async function historyPage(
  em: EntityManager,
  memberId: string,
  args: { first?: number | null; after?: string | null; type?: string | null },
): Promise<Connection<PointsEntryRow>> {
  const n = pageSize(args.first);
  const cursor = decodeCursor(args.after);
  const where: FindOptionsWhere<PointsEntryRow> = { memberId, ...(cursor ? { id: LessThan(cursor) } : {}) };
  if (args.type) where.type = args.type as PointsEntryRow['type'];
  const rows = await em.getRepository(PointsEntryEntity).find({ where, order: { id: 'DESC' }, take: n + 1 });
  return toConnection(rows, n, (r) => r.id);
}

export interface ExpiringPoints {
  amount: number;
  expiresAt: Date;
}

/** Points still in lots that expire after `now` and within `days` days, summed per expiry instant, soonest first. */
export async function expiringSoon(em: EntityManager, memberId: string, now: Date, days: number): Promise<ExpiringPoints[]> {
  const until = new Date(now.getTime() + days * 86_400_000);
  const rows: Array<{ expires_at: Date; amount: string }> = await em.query(
    `SELECT expires_at, SUM(remaining) AS amount FROM points_lot
      WHERE member_id = ? AND remaining > 0 AND expires_at > ? AND expires_at <= ?
      GROUP BY expires_at ORDER BY expires_at`,
    [memberId, now, until],
  );
  return rows.map((r) => ({ amount: Number(r.amount), expiresAt: new Date(r.expires_at) }));
}

/** The lots of a member, in spending order (tests and support tooling). */
export function lotsOf(em: EntityManager, memberId: string): Promise<PointsLotRow[]> {
  return em.getRepository(PointsLotEntity).find({ where: { memberId }, order: { expiresAt: 'ASC', earnedAt: 'ASC', id: 'ASC' } });
}
