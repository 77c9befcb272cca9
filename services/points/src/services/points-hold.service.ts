import type { EntityManager } from 'typeorm';
import { AppError, ErrorCode, badField, conflict, idempotent, newId, notFound, type ServiceKit } from '@membergraph/platform';
import type { PointsHoldReply } from '@membergraph/contracts';
import type { PointsConfig } from '../config';
import { PointsAccountEntity } from '../entities/points-account.entity';
import { PointsEntryEntity, type PointsEntryRow } from '../entities/points-entry.entity';
import { PointsHoldEntity, type PointsHoldRow } from '../entities/points-hold.entity';
import { MemberTierEntity } from '../entities/member-tier.entity';
import { HoldStatus, decideResolution, holdExpiresAt, type HoldAction } from '../domain/holds';
import { EntryType, OtherReason, applyEntry, availableOf, idempotencyKeys } from '../domain/ledger';
import { NotEnoughInLotsError, pickLots } from '../domain/lots';
import { appendEntry, insufficientFunds, lockAccount, recordDraws, repayDebt, spendableLots } from './points-ledger.service';
import { assertMayDebit } from './member-status.service';

export interface HoldInput {
  memberId: string;
  amount: number;
  reference: string;
  idempotencyKey: string;
  ttlSeconds?: number | null;
}

/**
 * Who asks. The checkout saga over NATS (`rpc`) may resolve any hold; a GraphQL client only the
 * holds it made (ADMIN any). Each caller's idempotency keys live in their own namespace, so two
 * clients choosing the same key never see each other's hold.
 */
export interface HoldCaller {
  /** `rpc`, or the GraphQL principal's id. */
  id: string;
  /** May resolve holds made by anyone. */
  anyHold: boolean;
}

export const RPC_CALLER: HoldCaller = { id: 'rpc', anyHold: true };

/** The largest single hold. */
export const MAX_HOLD = 100_000_000;
/** The longest a hold may stay open (the contract's bound). */
export const MAX_HOLD_TTL_SECONDS = 86_400;

/** Input checks, naming the field; nothing is written when one fails. */
export function checkHoldInput(input: HoldInput): Required<HoldInput> & { ttlSeconds: number | null } {
  const memberId = input.memberId.trim();
  if (!memberId || memberId.length > 26) throw badField('memberId', 'memberId must be a member id (1-26 characters)');
  if (!Number.isSafeInteger(input.amount) || input.amount <= 0 || input.amount > MAX_HOLD) {
    throw badField('amount', `amount must be a whole number of points, 1-${MAX_HOLD}`);
  }
  const reference = input.reference.trim();
  if (!reference || reference.length > 128) throw badField('reference', 'reference must be 1-128 characters');
  const key = input.idempotencyKey.trim();
  if (!/^[\x21-\x7e]{1,128}$/.test(key)) throw badField('idempotencyKey', 'idempotencyKey must be 1-128 printable ASCII characters');
  const ttl = input.ttlSeconds ?? null;
  if (ttl !== null && (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > MAX_HOLD_TTL_SECONDS)) {
    throw badField('ttlSeconds', `ttlSeconds must be a whole number of seconds, 1-${MAX_HOLD_TTL_SECONDS}`);
  }
  return { memberId, amount: input.amount, reference, idempotencyKey: key, ttlSeconds: ttl };
}

/** The operation an idempotency key is claimed under: one namespace per caller (<= 64 characters). */
function holdOperation(caller: HoldCaller): string {
  return caller.id === RPC_CALLER.id ? 'holdPoints' : `holdPoints:${caller.id.slice(0, 50)}`;
}

/** Members this service has heard of: an account (anything credited) or a registration seen. */
export async function isKnownMember(em: EntityManager, memberId: string): Promise<boolean> {
  return (await em.getRepository(PointsAccountEntity).existsBy({ memberId })) || (await em.getRepository(MemberTierEntity).existsBy({ memberId }));
}

function entryOf(hold: { memberId: string }, type: PointsEntryRow['type'], amount: number, held: number, balanceAfter: number, reason: string, holdId: string, key: string, operator: string, at: Date): PointsEntryRow {
  return {
    id: newId(),
    memberId: hold.memberId,
    type,
    amount,
    held,
    balanceAfter,
    reason,
    reference: holdId,
    idempotencyKey: key,
    operator,
    note: null,
    createdAt: at,
  };
}

/**
 * Reserves points for a checkout: FIFO from the lots (their `remaining` goes down now, recorded as
 * the HOLD entry's draws), the balance unchanged, `held` up by the amount, so the available balance
 * (balance - held) drops. Only available points can be held (INSUFFICIENT_FUNDS). Same key + same
 * input returns the first hold as it is now; another input under the key is CONFLICT.
 */
export async function holdPoints(kit: ServiceKit<PointsConfig>, em: EntityManager, caller: HoldCaller, raw: HoldInput, at = new Date()): Promise<PointsHoldRow> {
  const input = checkHoldInput(raw);
  const facts = { memberId: input.memberId, amount: input.amount, reference: input.reference, ttlSeconds: input.ttlSeconds };
  const { holdId } = await idempotent(em, { operation: holdOperation(caller), key: input.idempotencyKey, input: facts }, async () => {
    if (!(await isKnownMember(em, input.memberId))) throw notFound(`Member ${input.memberId}`);
    await assertMayDebit(em, input.memberId);
    const before = await lockAccount(em, input.memberId);
    const available = availableOf(before);
    if (available < input.amount) throw insufficientFunds(available, input.amount);
    const after = applyEntry(before, EntryType.HOLD, 0, input.amount);
    let draws;
    try {
      draws = pickLots(await spendableLots(em, input.memberId), input.amount);
    } catch (err) {
      if (err instanceof NotEnoughInLotsError) throw new Error(`points lots of ${input.memberId} hold ${err.available}, available ${available}: run pointsAudit`);
      throw err;
    }
    const id = newId();
    const entry = entryOf(input, EntryType.HOLD, 0, input.amount, after.balance, OtherReason.PAYMENT, id, idempotencyKeys.hold(id), caller.id, at);
    if (!(await appendEntry(em, entry))) throw new Error(`hold entry ${entry.idempotencyKey} already exists`);
    await em.getRepository(PointsHoldEntity).insert({
      id,
      memberId: input.memberId,
      amount: input.amount,
      reference: input.reference,
      status: HoldStatus.HELD,
      expiresAt: holdExpiresAt(at, input.ttlSeconds ?? kit.config.HOLD_TTL_SECONDS),
      createdBy: caller.id,
      createdAt: at,
      holdEntryId: entry.id,
      resolveEntryId: null,
      resolvedAt: null,
    });
    await recordDraws(em, input.memberId, draws.map((d) => ({ ...d, entryId: entry.id })));
    await em.getRepository(PointsAccountEntity).update({ memberId: input.memberId }, { held: after.held, updatedAt: at });
    return { holdId: id };
  });
  return em.getRepository(PointsHoldEntity).findOneByOrFail({ id: holdId });
}

/** Spends a hold: exactly the points it reserved (the HOLD entry's draws), once. See {@link decideResolution}. */
export function captureHold(kit: ServiceKit<PointsConfig>, em: EntityManager, caller: HoldCaller, holdId: string, at = new Date()): Promise<PointsHoldRow> {
  return resolveHold(kit, em, caller, holdId, 'CAPTURE', at);
}

/** Gives a hold's points back to the lots they came from, with their original expiry, once. */
export function releaseHold(kit: ServiceKit<PointsConfig>, em: EntityManager, caller: HoldCaller, holdId: string, at = new Date()): Promise<PointsHoldRow> {
  return resolveHold(kit, em, caller, holdId, 'RELEASE', at);
}

async function resolveHold(kit: ServiceKit<PointsConfig>, em: EntityManager, caller: HoldCaller, rawId: string, action: HoldAction, at: Date): Promise<PointsHoldRow> {
  const holdId = rawId.trim();
  if (!holdId || holdId.length > 26) throw badField('holdId', 'holdId must be a hold id (1-26 characters)');
  const repo = em.getRepository(PointsHoldEntity);
  const seen = await repo.findOneBy({ id: holdId });
  // Someone else's hold is as good as absent: its existence is not the caller's business.
  if (!seen || (!caller.anyHold && seen.createdBy !== caller.id)) throw notFound(`Hold ${holdId}`);
  // The account first, like every writer of this member's lots; then the hold, re-read under lock.
  const before = await lockAccount(em, seen.memberId);
  const hold = await repo.createQueryBuilder('h').where('h.id = :id', { id: holdId }).setLock('pessimistic_write').getOneOrFail();
  const decision = decideResolution(hold.status, action, hold.expiresAt, at);
  if (decision.kind === 'replay') return hold;
  if (decision.kind === 'conflict') throw conflict(decision.reason, { field: 'holdId', status: hold.status });
  let entry: PointsEntryRow;
  if (action === 'CAPTURE') {
    const after = applyEntry(before, EntryType.CAPTURE, -hold.amount, -hold.amount);
    entry = entryOf(hold, EntryType.CAPTURE, -hold.amount, -hold.amount, after.balance, OtherReason.PAYMENT, hold.id, idempotencyKeys.capture(hold.id), caller.id, at);
    if (!(await appendEntry(em, entry))) throw new AppError(ErrorCode.CONFLICT, `ledger entry ${entry.idempotencyKey} already exists`);
    // No draws: the points left their lots when the hold was made (the HOLD entry's draws).
    await em.getRepository(PointsAccountEntity).update({ memberId: hold.memberId }, { balance: after.balance, held: after.held, updatedAt: at });
  } else {
    const after = applyEntry(before, EntryType.RELEASE, 0, -hold.amount);
    entry = entryOf(hold, EntryType.RELEASE, 0, -hold.amount, after.balance, OtherReason.PAYMENT, hold.id, idempotencyKeys.release(hold.id), caller.id, at);
    if (!(await appendEntry(em, entry))) throw new AppError(ErrorCode.CONFLICT, `ledger entry ${entry.idempotencyKey} already exists`);
    const reserved: Array<{ lot_id: string; amount: string }> = await em.query('SELECT lot_id, amount FROM points_draw WHERE entry_id = ?', [hold.holdEntryId]);
    await recordDraws(em, hold.memberId, reserved.map((d) => ({ entryId: entry.id, lotId: d.lot_id, amount: -Number(d.amount) })));
    // Points coming back into a debt pay it off first.
    const available = availableOf(before);
    if (available < 0) await repayDebt(em, hold.memberId, Math.min(hold.amount, -available));
    await em.getRepository(PointsAccountEntity).update({ memberId: hold.memberId }, { held: after.held, updatedAt: at });
  }
  await repo.update({ id: hold.id }, { status: decision.to, resolveEntryId: entry.id, resolvedAt: at });
  return { ...hold, status: decision.to, resolveEntryId: entry.id, resolvedAt: at };
}

export interface HoldExpiryRun {
  runId: string;
  asOf: Date;
  holdsExpired: number;
  pointsReleased: number;
}

/**
 * Releases every hold still HELD whose expiry is at or before `asOf` (status EXPIRED, one RELEASE
 * entry each, points back to their lots). Set-based like the points expiry: a chunk of members is a
 * fixed number of statements whatever the number of holds, each chunk its own transaction; only the
 * rare member in debt takes one more step. Safe to re-run and to run on several replicas at once:
 * holds are re-read under the account locks.
 */
export async function runHoldExpiry(kit: ServiceKit<PointsConfig>, asOf: Date, operator: string): Promise<HoldExpiryRun> {
  const run: HoldExpiryRun = { runId: newId(), asOf, holdsExpired: 0, pointsReleased: 0 };
  let after = '';
  for (;;) {
    const page: Array<{ member_id: string }> = await kit.ds.query(
      `SELECT DISTINCT member_id FROM points_hold WHERE status = 'HELD' AND expires_at <= ? AND member_id > ? ORDER BY member_id LIMIT ?`,
      [asOf, after, kit.config.EXPIRY_BATCH_MEMBERS],
    );
    if (!page.length) break;
    const memberIds = page.map((r) => r.member_id);
    const chunk = await kit.uow((em) => expireHoldsChunk(em, asOf, memberIds, operator));
    run.holdsExpired += chunk.holds;
    run.pointsReleased += chunk.points;
    after = memberIds.at(-1)!;
  }
  if (run.holdsExpired) kit.log.info({ ...run }, 'points holds expired');
  return run;
}

async function expireHoldsChunk(em: EntityManager, asOf: Date, memberIds: string[], operator: string) {
  const accounts: Array<{ member_id: string; balance: string; held: string }> = await em.query(
    'SELECT member_id, balance, held FROM points_account WHERE member_id IN (?) ORDER BY member_id FOR UPDATE',
    [memberIds],
  );
  const holds: Array<{ id: string; member_id: string; amount: string }> = await em.query(
    `SELECT id, member_id, amount FROM points_hold WHERE member_id IN (?) AND status = 'HELD' AND expires_at <= ? ORDER BY member_id, id FOR UPDATE`,
    [memberIds, asOf],
  );
  if (!holds.length) return { holds: 0, points: 0 };
  const now = new Date();
  const balances = new Map(accounts.map((a) => [a.member_id, { balance: Number(a.balance), held: Number(a.held) }]));
  const holdIds = holds.map((h) => h.id);
  // A RELEASE leaves the balance alone, so every entry of the chunk has its member's balance after it.
  await em.getRepository(PointsEntryEntity).insert(
    holds.map((h) =>
      entryOf({ memberId: h.member_id }, EntryType.RELEASE, 0, -Number(h.amount), balances.get(h.member_id)?.balance ?? 0, OtherReason.HOLD_EXPIRED, h.id, idempotencyKeys.release(h.id), operator, now),
    ),
  );
  const releaseKey = idempotencyKeys.release('');
  // Each hold's reserved draws come back as negative draws of its RELEASE entry...
  await em.query(
    `INSERT INTO points_draw (entry_id, lot_id, member_id, amount)
     SELECT e.id, d.lot_id, d.member_id, -d.amount FROM points_hold h
       JOIN points_draw d ON d.entry_id = h.hold_entry_id
       JOIN points_entry e ON e.idempotency_key = CONCAT(?, h.id)
      WHERE h.id IN (?)`,
    [releaseKey, holdIds],
  );
  // ...and the lots get the points back, with their original expiry.
  await em.query(
    `UPDATE points_lot l JOIN (SELECT d.lot_id, SUM(d.amount) AS amount FROM points_hold h JOIN points_draw d ON d.entry_id = h.hold_entry_id
                                WHERE h.id IN (?) GROUP BY d.lot_id) x ON x.lot_id = l.id
        SET l.remaining = l.remaining + x.amount`,
    [holdIds],
  );
  await em.query(
    `UPDATE points_hold h JOIN points_entry e ON e.idempotency_key = CONCAT(?, h.id)
        SET h.status = 'EXPIRED', h.resolve_entry_id = e.id, h.resolved_at = ?
      WHERE h.id IN (?)`,
    [releaseKey, now, holdIds],
  );
  await em.query(
    `UPDATE points_account a JOIN (SELECT member_id, SUM(amount) AS amount FROM points_hold WHERE id IN (?) GROUP BY member_id) x ON x.member_id = a.member_id
        SET a.held = a.held - x.amount, a.updated_at = ?`,
    [holdIds, now],
  );
  // Members in debt: the returned points pay it off first (rare, so one member at a time).
  const released = new Map<string, number>();
  for (const h of holds) released.set(h.member_id, (released.get(h.member_id) ?? 0) + Number(h.amount));
  for (const [memberId, points] of released) {
    const totals = balances.get(memberId);
    const available = totals ? availableOf(totals) : 0;
    if (available < 0) await repayDebt(em, memberId, Math.min(points, -available));
  }
  return { holds: holds.length, points: holds.reduce((s, h) => s + Number(h.amount), 0) };
}

/** The hold as the RPC contract answers it. */
export function holdReply(hold: PointsHoldRow): PointsHoldReply {
  return { holdId: hold.id, memberId: hold.memberId, amount: hold.amount, status: hold.status, expiresAt: hold.expiresAt.toISOString() };
}
