import type { EntityManager } from 'typeorm';
import { audit, badField, idempotent, notFound, type ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../config';
import { MemberTierEntity } from '../entities/member-tier.entity';
import { PointsAccountEntity } from '../entities/points-account.entity';
import { PointsEntryEntity, type PointsEntryRow } from '../entities/points-entry.entity';
import { EntryType, OtherReason, idempotencyKeys } from '../domain/ledger';
import { creditPoints, debitPoints } from './points-ledger.service';
import { assertMayDebit } from './member-status.service';

export interface AdjustInput {
  memberId: string;
  delta: number;
  reason: string;
  idempotencyKey: string;
}

/** The largest hand adjustment in either direction. */
export const MAX_ADJUSTMENT = 1_000_000;

/** Input checks, naming the field; nothing is written when one fails. */
export function checkAdjustInput(input: AdjustInput): AdjustInput {
  const memberId = input.memberId.trim();
  if (!memberId || memberId.length > 26) throw badField('memberId', 'memberId must be a member id (1-26 characters)');
  if (!Number.isSafeInteger(input.delta) || input.delta === 0 || Math.abs(input.delta) > MAX_ADJUSTMENT) {
    throw badField('delta', `delta must be a whole number of points, not zero, at most ${MAX_ADJUSTMENT} either way`);
  }
  const reason = input.reason.trim();
  if (!reason || reason.length > 255) throw badField('reason', 'reason must be 1-255 characters');
  const key = input.idempotencyKey.trim();
  if (!/^[\x21-\x7e]{1,100}$/.test(key)) throw badField('idempotencyKey', 'idempotencyKey must be 1-100 printable ASCII characters');
  return { memberId, delta: input.delta, reason, idempotencyKey: key };
}

/**
 * SUPPORT/ADMIN compensation or correction: a positive delta opens a lot (repaying any debt
 * first), a negative one draws FIFO and never takes more than is available (held points are not);
 * FORBIDDEN for a FROZEN, BLACKLISTED or ERASED member. The entry carries the operator and their reason,
 * and an `audit_log` row (action `points.adjust`, actor = the operator, target = the member) records it.
 * Same key + same input returns the first entry; a different input under the key is CONFLICT.
 */
export async function adjustPoints(kit: ServiceKit<PointsConfig>, em: EntityManager, operator: string, raw: AdjustInput, at = new Date()): Promise<PointsEntryRow> {
  const input = checkAdjustInput(raw);
  const facts = { memberId: input.memberId, delta: input.delta, reason: input.reason };
  const { entryId } = await idempotent(em, { operation: 'adjustPoints', key: input.idempotencyKey, input: facts }, async () => {
    // Members this service has heard of: an account (anything credited) or a registration seen.
    const known =
      (await em.getRepository(PointsAccountEntity).existsBy({ memberId: input.memberId })) ||
      (await em.getRepository(MemberTierEntity).existsBy({ memberId: input.memberId }));
    if (!known) throw notFound(`Member ${input.memberId}`);
    const common = {
      memberId: input.memberId,
      type: EntryType.ADJUST,
      reason: OtherReason.ADJUSTMENT,
      reference: null,
      idempotencyKey: idempotencyKeys.adjust(input.idempotencyKey),
      operator,
      note: input.reason,
      at,
    };
    if (input.delta < 0) await assertMayDebit(em, input.memberId);
    const entry =
      input.delta > 0 ? await creditPoints(kit, em, { ...common, amount: input.delta }) : await debitPoints(kit, em, { ...common, amount: -input.delta });
    if (!entry) throw new Error(`adjustment ${input.idempotencyKey} is in the ledger without its idempotency record`);
    // Inside the idempotent unit: a replay returns the first entry and writes no second audit row.
    await audit(em, operator, 'points.adjust', input.memberId, { entryId: entry.id, delta: input.delta, reason: input.reason, idempotencyKey: input.idempotencyKey });
    return { entryId: entry.id };
  });
  return em.getRepository(PointsEntryEntity).findOneByOrFail({ id: entryId });
}
