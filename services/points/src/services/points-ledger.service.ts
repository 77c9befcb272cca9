import { LessThan, In, type EntityManager } from 'typeorm';
import { decodeCursor, isDuplicateKey, lockOrCreate, newId, pageSize, toConnection, type Connection, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import { PointsAccountEntity, type PointsAccountRow } from '../entities/points-account.entity';
import { PointsEntryEntity, type PointsEntryRow } from '../entities/points-entry.entity';
import { EntryType, applyEntry, type AccountTotals, type EarnReason } from '../domain/ledger';

export interface EarnInput {
  memberId: string;
  amount: number;
  reason: EarnReason;
  reference: string | null;
  idempotencyKey: string;
}

/** The member's account, created if missing, locked for the rest of the transaction. */
async function lockAccount(em: EntityManager, memberId: string): Promise<AccountTotals> {
  const account = await lockOrCreate(em, PointsAccountEntity, { memberId, balance: 0, lifetimeEarned: 0, updatedAt: new Date() });
  return { balance: account.balance, lifetimeEarned: account.lifetimeEarned };
}

/**
 * Credits earned points once per idempotency key: appends an EARN entry, moves the balance and
 * announces `points.earned`, all in the caller's transaction. A key already in the ledger (a
 * redelivered or repeated event, even one that bypassed the inbox) changes nothing and returns null.
 */
export async function earnPoints(kit: ServiceKit, em: EntityManager, input: EarnInput): Promise<PointsEntryRow | null> {
  const before = await lockAccount(em, input.memberId);
  const after = applyEntry(before, EntryType.EARN, input.amount);
  const entry: PointsEntryRow = {
    id: newId(),
    memberId: input.memberId,
    type: EntryType.EARN,
    amount: input.amount,
    balanceAfter: after.balance,
    reason: input.reason,
    reference: input.reference,
    idempotencyKey: input.idempotencyKey,
    createdAt: new Date(),
  };
  try {
    await em.getRepository(PointsEntryEntity).insert(entry);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // MySQL rolls back only the failed statement: the transaction (and its inbox row) stays good.
    const first = await em.getRepository(PointsEntryEntity).findOneBy({ idempotencyKey: input.idempotencyKey });
    if (first && (first.memberId !== input.memberId || first.amount !== input.amount)) {
      kit.log.warn({ idempotencyKey: input.idempotencyKey, first: first.id, memberId: input.memberId, amount: input.amount }, 'points earning repeated with different facts; kept the first');
    }
    return null;
  }
  await em
    .getRepository(PointsAccountEntity)
    .update({ memberId: input.memberId }, { balance: after.balance, lifetimeEarned: after.lifetimeEarned, updatedAt: entry.createdAt });
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
  return entry;
}

/** Accounts by member id, in the order asked, null where no account exists yet. */
export async function accountsByMemberIds(em: EntityManager, memberIds: readonly string[]): Promise<Array<PointsAccountRow | null>> {
  const rows = await em.getRepository(PointsAccountEntity).findBy({ memberId: In([...memberIds]) });
  const byId = new Map(rows.map((r) => [r.memberId, r]));
  return memberIds.map((id) => byId.get(id) ?? null);
}

/** A member's ledger, newest first, as a Relay connection. */
export async function historyPage(
  em: EntityManager,
  memberId: string,
  args: { first?: number | null; after?: string | null },
): Promise<Connection<PointsEntryRow>> {
  const n = pageSize(args.first);
  const cursor = decodeCursor(args.after);
  const rows = await em.getRepository(PointsEntryEntity).find({
    where: { memberId, ...(cursor ? { id: LessThan(cursor) } : {}) },
    order: { id: 'DESC' },
    take: n + 1,
  });
  return toConnection(rows, n, (r) => r.id);
}
