import { randomInt } from 'node:crypto';
import { In, MoreThan, type EntityManager } from 'typeorm';
import { AppError, ErrorCode, audit, badField, conflict, hashSecret, newId, notFound, verifySecret, type ServiceKit } from '@membergraph/platform';
import { MAX_BATCH, PIN_FAILURE_LIMIT, PIN_WINDOW_MS, bindRefusal, cardNumber, cardPin, cardStatus, giftRefusal, luhnValid } from '../domain/card';
import { JournalKind, cardLoadPostings } from '../domain/ledger';
import { WalletStatus } from '../domain/wallet';
import { CardBatchEntity, CardEntity, CardKind, CardPinFailureEntity, CardStatus, type CardBatchRow, type CardRow } from '../entities/card.entity';
import { WalletAccountEntity } from '../entities/wallet-account.entity';
import { postJournal } from './ledger.service';
import { lockWallet } from './wallet-account.service';
import { checkAmount, checkText } from './top-up.service';
import { walletFrozen } from './errors';

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
 * status are left as they are. Returns the cards asked for, as they now stand.
 */
export async function activateCards(em: EntityManager, actor: string, input: { batchId?: string | null; cardNumbers?: readonly string[] | null }): Promise<CardRow[]> {
  const byBatch = Boolean(input.batchId);
  const numbers = input.cardNumbers ?? [];
  if (byBatch === numbers.length > 0) throw badField('batchId', 'give either batchId or cardNumbers');
  if (numbers.length > MAX_BATCH) throw badField('cardNumbers', `at most ${MAX_BATCH} cards at a time`);
  if (byBatch) checkText('batchId', input.batchId, 26);
  const where = byBatch ? { batchId: input.batchId! } : { number: In([...numbers]) };
  const now = new Date();
  const res = await cards(em).update({ ...where, status: CardStatus.INACTIVE, expiresAt: MoreThan(now) }, { status: CardStatus.ACTIVE, updatedAt: now });
  const found = await cards(em).findBy(where);
  if (!found.length) throw notFound('Card');
  await audit(em, actor, 'CARDS_ACTIVATED', byBatch ? input.batchId! : found[0]!.batchId, { activated: res.affected ?? 0, cards: byBatch ? undefined : numbers });
  return found;
}

/** Voids an unbound card (lost, stolen, unsold), audited; a bound card's value is in a wallet: CONFLICT. */
export async function voidCard(em: EntityManager, actor: string, input: { cardNumber: string; reason: string }): Promise<CardRow> {
  checkText('cardNumber', input.cardNumber, 19);
  checkText('reason', input.reason, 500);
  const card = await cards(em).createQueryBuilder('c').where('c.number = :n', { n: input.cardNumber }).setLock('pessimistic_write').getOne();
  if (!card) throw notFound('Card');
  if (card.status === CardStatus.VOID) return card;
  if (card.status === CardStatus.BOUND) throw conflict('A bound card cannot be voided: its value is in a wallet', { field: 'cardNumber', reason: 'CARD_BOUND' });
  const now = new Date();
  await cards(em).update({ number: card.number }, { status: CardStatus.VOID, updatedAt: now });
  await audit(em, actor, 'CARD_VOIDED', card.number, { reason: input.reason, from: cardStatus(card, now) });
  return { ...card, status: CardStatus.VOID, updatedAt: now };
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
type Checked = { ok: true; card: CardRow; account: NonNullable<Awaited<ReturnType<typeof lockWallet>>> } | { ok: false; error: AppError };

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

function checkCardInput(input: { cardNumber: string; pin: string }) {
  checkText('cardNumber', input.cardNumber, 19);
  // A typo is not a guess: numbers that fail the Luhn check are refused without counting.
  if (!luhnValid(input.cardNumber)) throw badField('cardNumber', 'cardNumber is not a valid card number');
  checkText('pin', input.pin, 16);
}

/**
 * Binds a card to the member's wallet and loads its face value as principal (CARD_FLOAT ->
 * SV_LIABILITY), exactly once: the card row is locked and moves ACTIVE -> BOUND in the journal's
 * transaction. A repeat by the member who bound it returns the card (nothing loads twice).
 */
export async function bindCard(kit: ServiceKit, memberId: string, input: { cardNumber: string; pin: string }): Promise<CardRow> {
  checkCardInput(input);
  const outcome = await kit.uow(async (em): Promise<CardRow | AppError> => {
    const pre = await em.getRepository(WalletAccountEntity).findOneBy({ memberId });
    if (pre?.status === WalletStatus.FROZEN) throw walletFrozen(memberId);
    const checked = await checkPin(em, memberId, input.cardNumber, input.pin);
    if (!checked.ok) return checked.error;
    const { card, account } = checked;
    if (account.status === WalletStatus.FROZEN) throw walletFrozen(memberId);
    const now = new Date();
    const refusal = bindRefusal(card, memberId, now);
    if (refusal === 'ALREADY_BOUND_TO_YOU') return card;
    if (refusal) throw conflict(`The card cannot be bound (${refusal})`, { field: 'cardNumber', reason: refusal });
    const journalId = newId();
    const updated = await cards(em).update({ number: card.number, status: CardStatus.ACTIVE }, { status: CardStatus.BOUND, boundMemberId: memberId, boundAt: now, journalId, updatedAt: now });
    if (updated.affected !== 1) throw new Error(`card ${card.number} changed under its lock`);
    await postJournal(kit, em, { id: journalId, kind: JournalKind.CARD_LOAD, memberId, reference: card.number, postings: cardLoadPostings(memberId, card.faceValue), before: account });
    return { ...card, status: CardStatus.BOUND, boundMemberId: memberId, boundAt: now, journalId, updatedAt: now };
  });
  if (outcome instanceof AppError) throw outcome;
  return outcome;
}

/**
 * Gifts an unbound, active e-card to another member: afterwards only they may bind it (the giver,
 * who knows the PIN, no longer can). The giver proves possession with the PIN (throttled like a bind).
 */
export async function giftCard(kit: ServiceKit, memberId: string, input: { cardNumber: string; pin: string; toMemberId: string }): Promise<CardRow> {
  checkCardInput(input);
  checkText('toMemberId', input.toMemberId, 26);
  const outcome = await kit.uow(async (em): Promise<CardRow | AppError> => {
    const checked = await checkPin(em, memberId, input.cardNumber, input.pin);
    if (!checked.ok) return checked.error;
    const { card } = checked;
    const now = new Date();
    const refusal = giftRefusal(card, memberId, input.toMemberId, now);
    if (refusal) throw conflict(`The card cannot be gifted (${refusal})`, { field: 'cardNumber', reason: refusal });
    if (!(await em.getRepository(WalletAccountEntity).existsBy({ memberId: input.toMemberId }))) throw notFound('Wallet');
    await cards(em).update({ number: card.number }, { giftedTo: input.toMemberId, giftedBy: memberId, updatedAt: now });
    return { ...card, giftedTo: input.toMemberId, giftedBy: memberId, updatedAt: now };
  });
  if (outcome instanceof AppError) throw outcome;
  return outcome;
}
