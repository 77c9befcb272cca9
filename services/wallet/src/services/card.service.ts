import { randomInt } from 'node:crypto';
import { In, MoreThan, type EntityManager } from 'typeorm';
import { AppError, ErrorCode, audit, badField, conflict, hashSecret, idempotent, newId, notFound, verifySecret, type ServiceKit } from '@membergraph/platform';
import { MAX_BATCH, PIN_FAILURE_LIMIT, PIN_WINDOW_MS, bindRefusal, cardNumber, cardPin, cardStatus, giftRefusal, luhnValid } from '../domain/card';
import { JournalKind, cardLoadPostings } from '../domain/ledger';
import { MemberStatus } from '../domain/wallet';
import { CardBatchEntity, CardEntity, CardKind, CardPinFailureEntity, CardStatus, type CardBatchRow, type CardRow } from '../entities/card.entity';
import { postJournal } from './ledger.service';
import { assertMayMoveMoney, lockWallet, peekWallet, type AccountWithStatus } from './wallet-account.service';
import { checkAmount, checkText } from './top-up.service';
import { memberNotActive } from './errors';

export interface IssueCardBatchInput {
  count: number;
  faceValue: number;
  kind: CardKind;
  expiresAt: Date;
}

/** A batch as issued: the only time the PINs are ever shown. */
export interface IssuedBatch extends CardBatchRow {
  cards: Array<{ number: string; pin: string }>;
}

const randomDigit = () => randomInt(10);
const cards = (em: EntityManager) => em.getRepository(CardEntity);

/** The number and hashed PIN of each card of a batch, made before the transaction (scrypt is slow on purpose). */
export async function prepareCards(input: IssueCardBatchInput, now = new Date()): Promise<Array<{ number: string; pin: string; pinHash: string }>> {
  if (!Number.isSafeInteger(input.count) || input.count < 1 || input.count > MAX_BATCH) throw badField('count', `count must be from 1 to ${MAX_BATCH}`);
  checkAmount('faceValue', input.faceValue);
  if (!Object.values(CardKind).includes(input.kind)) throw badField('kind', 'kind must be PHYSICAL or ELECTRONIC');
  if (!(input.expiresAt instanceof Date) || Number.isNaN(input.expiresAt.getTime()) || input.expiresAt.getTime() <= now.getTime()) {
    throw badField('expiresAt', 'expiresAt must be in the future');
  }
  const numbers = new Set<string>();
  while (numbers.size < input.count) numbers.add(cardNumber(randomDigit));
  const out = [];
  // A few at a time: scrypt runs on libuv's small thread pool.
  const list = [...numbers];
  for (let i = 0; i < list.length; i += 4) {
    const chunk = await Promise.all(
      list.slice(i, i + 4).map(async (number) => {
        const pin = cardPin(randomDigit);
        return { number, pin, pinHash: await hashSecret(pin) };
      }),
    );
    out.push(...chunk);
  }
  return out;
}

/**
 * Records a batch of INACTIVE cards (audited). A number colliding with an existing card (2 in 10^16
 * per pair) fails the insert as a duplicate key and the whole batch is rolled back; the caller retries.
 */
export async function issueCardBatch(em: EntityManager, actor: string, input: IssueCardBatchInput, prepared: Array<{ number: string; pin: string; pinHash: string }>): Promise<IssuedBatch> {
  const now = new Date();
  const batch: CardBatchRow = { id: newId(), kind: input.kind, count: prepared.length, faceValue: input.faceValue, expiresAt: input.expiresAt, issuedBy: actor, createdAt: now };
  await em.getRepository(CardBatchEntity).insert(batch);
  await cards(em).insert(
    prepared.map((c) => ({
      number: c.number,
      batchId: batch.id,
      kind: input.kind,
      faceValue: input.faceValue,
      pinHash: c.pinHash,
      status: CardStatus.INACTIVE,
      expiresAt: input.expiresAt,
      giftedTo: null,
      giftedBy: null,
      boundMemberId: null,
      boundAt: null,
      journalId: null,
      createdAt: now,
      updatedAt: now,
    })),
  );
  // Never the PINs: the audit trail records what was issued, not the secrets.
  await audit(em, actor, 'CARD_BATCH_ISSUED', batch.id, { kind: input.kind, count: batch.count, faceValue: input.faceValue, expiresAt: input.expiresAt.toISOString() });
  return { ...batch, cards: prepared.map(({ number, pin }) => ({ number, pin })) };
}

/**
 * Activates INACTIVE, unexpired cards (a batch or listed numbers), audited; cards in any other
 * status are left as they are. Returns the cards asked for, as they now stand. Once per
 * idempotency key: a retry with the same batch or numbers returns those cards (read again) without
 * a second activation or audit entry; another batch or list is CONFLICT.
 */
export async function activateCards(
  em: EntityManager,
  actor: string,
  input: { batchId?: string | null; cardNumbers?: readonly string[] | null; idempotencyKey: string },
): Promise<CardRow[]> {
  const byBatch = Boolean(input.batchId);
  const numbers = input.cardNumbers ?? [];
  if (byBatch === numbers.length > 0) throw badField('batchId', 'give either batchId or cardNumbers');
  if (numbers.length > MAX_BATCH) throw badField('cardNumbers', `at most ${MAX_BATCH} cards at a time`);
  if (byBatch) checkText('batchId', input.batchId, 26);
  checkText('idempotencyKey', input.idempotencyKey, 128);
  const where = byBatch ? { batchId: input.batchId! } : { number: In([...numbers]) };
  const request = byBatch ? { batchId: input.batchId } : { cardNumbers: [...numbers].sort() };
  const found = await idempotent(em, { operation: 'activateCards', key: input.idempotencyKey, input: request }, async () => {
    const now = new Date();
    const res = await cards(em).update({ ...where, status: CardStatus.INACTIVE, expiresAt: MoreThan(now) }, { status: CardStatus.ACTIVE, updatedAt: now });
    const rows = await cards(em).findBy(where);
    if (!rows.length) throw notFound('Card');
    await audit(em, actor, 'CARDS_ACTIVATED', byBatch ? input.batchId! : rows[0]!.batchId, { activated: res.affected ?? 0, cards: byBatch ? undefined : numbers });
    return rows.map((c) => c.number);
  });
  return cards(em).find({ where: { number: In(found) }, order: { number: 'ASC' } });
}

/**
 * Voids an unbound card (lost, stolen, unsold), audited; a bound card's value is in a wallet:
 * CONFLICT. Once per idempotency key (same card and reason: the card again; other input: CONFLICT).
 */
export async function voidCard(em: EntityManager, actor: string, input: { cardNumber: string; reason: string; idempotencyKey: string }): Promise<CardRow> {
  checkText('cardNumber', input.cardNumber, 19);
  checkText('reason', input.reason, 500);
  checkText('idempotencyKey', input.idempotencyKey, 128);
  const number = await idempotent(em, { operation: 'voidCard', key: input.idempotencyKey, input: { cardNumber: input.cardNumber, reason: input.reason } }, async () => {
    const card = await cards(em).createQueryBuilder('c').where('c.number = :n', { n: input.cardNumber }).setLock('pessimistic_write').getOne();
    if (!card) throw notFound('Card');
    if (card.status === CardStatus.VOID) return card.number;
    if (card.status === CardStatus.BOUND) throw conflict('A bound card cannot be voided: its value is in a wallet', { field: 'cardNumber', reason: 'CARD_BOUND' });
    const now = new Date();
    await cards(em).update({ number: card.number }, { status: CardStatus.VOID, updatedAt: now });
    await audit(em, actor, 'CARD_VOIDED', card.number, { reason: input.reason, from: cardStatus(card, now) });
    return card.number;
  });
  return cards(em).findOneByOrFail({ number });
}

/** A card by number, or null. */
export function findCard(em: EntityManager, number: string): Promise<CardRow | null> {
  return cards(em).findOneBy({ number });
}

const rateLimited = () => new AppError(ErrorCode.RATE_LIMITED, 'Too many wrong PINs; try again later', { field: 'pin', retryAfterSeconds: PIN_WINDOW_MS / 1000 });
const wrongPin = () => badField('pin', 'The card number or PIN is wrong');

async function recentFailures(em: EntityManager, scope: 'CARD' | 'MEMBER', subject: string, now: Date): Promise<number> {
  return em.getRepository(CardPinFailureEntity).countBy({ scope, subject, at: MoreThan(new Date(now.getTime() - PIN_WINDOW_MS)) });
}

/**
 * What a PIN-checked request decided. A wrong PIN is committed (the throttle must remember it) and
 * only then thrown, so the unit of work returns it instead of throwing.
 */
type Checked = { ok: true; card: CardRow; account: AccountWithStatus } | { ok: false; error: AppError };

/**
 * Locks the member (the per-member throttle's serialisation point), checks the throttle, locks the
 * card and checks the PIN, recording a failure per member and per card. The scrypt check runs under
 * both locks on purpose: concurrent guesses queue, so no more than PIN_FAILURE_LIMIT are ever judged.
 */
async function checkPin(em: EntityManager, memberId: string, number: string, pin: string): Promise<Checked> {
  const account = await lockWallet(em, memberId);
  if (!account) throw notFound('Wallet');
  const now = new Date();
  if ((await recentFailures(em, 'MEMBER', memberId, now)) >= PIN_FAILURE_LIMIT || (await recentFailures(em, 'CARD', number, now)) >= PIN_FAILURE_LIMIT) {
    return { ok: false, error: rateLimited() };
  }
  const card = await cards(em).createQueryBuilder('c').where('c.number = :n', { n: number }).setLock('pessimistic_write').getOne();
  if (card && (await verifySecret(pin, card.pinHash))) return { ok: true, card, account };
  const failures = em.getRepository(CardPinFailureEntity);
  await failures.insert({ id: newId(), scope: 'MEMBER', subject: memberId, at: now });
  // An unknown number gets the same answer as a wrong PIN (no oracle for card numbers).
  if (card) await failures.insert({ id: newId(), scope: 'CARD', subject: number, at: now });
  return { ok: false, error: wrongPin() };
}

function checkCardInput(input: { cardNumber: string; pin: string; idempotencyKey: string }) {
  checkText('cardNumber', input.cardNumber, 19);
  // A typo is not a guess: numbers that fail the Luhn check are refused without counting.
  if (!luhnValid(input.cardNumber)) throw badField('cardNumber', 'cardNumber is not a valid card number');
  checkText('pin', input.pin, 16);
  checkText('idempotencyKey', input.idempotencyKey, 128);
}

/**
 * Binds a card to the member's wallet and loads its face value as principal (CARD_FLOAT ->
 * SV_LIABILITY), exactly once: the card row is locked and moves ACTIVE -> BOUND in the journal's
 * transaction. A repeat by the member who bound it returns the card (nothing loads twice).
 * Once per idempotency key, claimed after the PIN check (so a wrong PIN is counted and committed
 * without using the key up): a retry with the same card returns it; another card is CONFLICT. The
 * PIN is never part of the fingerprint (a sha256 of 8 digits would give it away).
 */
export async function bindCard(kit: ServiceKit, memberId: string, input: { cardNumber: string; pin: string; idempotencyKey: string }): Promise<CardRow> {
  checkCardInput(input);
  const outcome = await kit.uow(async (em): Promise<CardRow | AppError> => {
    // Refused before the PIN is judged: a frozen wallet or member is not a wrong guess.
    const pre = await peekWallet(em, memberId);
    if (pre) assertMayMoveMoney(pre);
    const checked = await checkPin(em, memberId, input.cardNumber, input.pin);
    if (!checked.ok) return checked.error;
    const { card, account } = checked;
    assertMayMoveMoney(account);
    const number = await idempotent(em, { operation: 'bindCard', key: input.idempotencyKey, input: { memberId, cardNumber: input.cardNumber } }, async () => {
      const now = new Date();
      const refusal = bindRefusal(card, memberId, now);
      if (refusal === 'ALREADY_BOUND_TO_YOU') return card.number;
      if (refusal) throw conflict(`The card cannot be bound (${refusal})`, { field: 'cardNumber', reason: refusal });
      const journalId = newId();
      const updated = await cards(em).update({ number: card.number, status: CardStatus.ACTIVE }, { status: CardStatus.BOUND, boundMemberId: memberId, boundAt: now, journalId, updatedAt: now });
      if (updated.affected !== 1) throw new Error(`card ${card.number} changed under its lock`);
      await postJournal(kit, em, { id: journalId, kind: JournalKind.CARD_LOAD, memberId, reference: card.number, postings: cardLoadPostings(memberId, card.faceValue), before: account });
      return card.number;
    });
    return cards(em).findOneByOrFail({ number });
  });
  if (outcome instanceof AppError) throw outcome;
  return outcome;
}

/**
 * Gifts an unbound, active e-card to another member: afterwards only they may bind it (the giver,
 * who knows the PIN, no longer can). The giver proves possession with the PIN (throttled like a
 * bind). Giver and recipient must both be ACTIVE members (a card gifted to a blacklisted or erased
 * member could never be used). Once per idempotency key, claimed after the PIN check like bindCard.
 */
export async function giftCard(kit: ServiceKit, memberId: string, input: { cardNumber: string; pin: string; toMemberId: string; idempotencyKey: string }): Promise<CardRow> {
  checkCardInput(input);
  checkText('toMemberId', input.toMemberId, 26);
  const outcome = await kit.uow(async (em): Promise<CardRow | AppError> => {
    const pre = await peekWallet(em, memberId);
    if (pre) assertMayMoveMoney(pre);
    const checked = await checkPin(em, memberId, input.cardNumber, input.pin);
    if (!checked.ok) return checked.error;
    const { card } = checked;
    const request = { memberId, cardNumber: input.cardNumber, toMemberId: input.toMemberId };
    const number = await idempotent(em, { operation: 'giftCard', key: input.idempotencyKey, input: request }, async () => {
      const now = new Date();
      const refusal = giftRefusal(card, memberId, input.toMemberId, now);
      if (refusal) throw conflict(`The card cannot be gifted (${refusal})`, { field: 'cardNumber', reason: refusal });
      const recipient = await peekWallet(em, input.toMemberId);
      if (!recipient) throw notFound('Wallet');
      if (recipient.memberStatus !== MemberStatus.ACTIVE) throw memberNotActive(input.toMemberId, recipient.memberStatus);
      await cards(em).update({ number: card.number }, { giftedTo: input.toMemberId, giftedBy: memberId, updatedAt: now });
      return card.number;
    });
    return cards(em).findOneByOrFail({ number });
  });
  if (outcome instanceof AppError) throw outcome;
  return outcome;
}
