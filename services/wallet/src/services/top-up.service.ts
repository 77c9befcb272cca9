import type { EntityManager } from 'typeorm';
import { audit, badField, conflict, idempotent, isDuplicateKey, newId, notFound, type ServiceKit } from '@membergraph/platform';
import { JournalKind, planRefund, refundPostings, topUpPostings } from '../domain/ledger';
import {
  DEFAULT_TOP_UP_RULES,
  MAX_TOP_UP,
  normalizeRules,
  parseRules,
  serializeRules,
  topUpBonus,
  topUpRulesDefects,
  type TopUpRules,
} from '../domain/top-up';
import { WalletStatus } from '../domain/wallet';
import { TopUpEntity, TopUpStatus, type TopUpRow } from '../entities/top-up.entity';
import { TopUpRefundEntity, type TopUpRefundRow } from '../entities/top-up-refund.entity';
import { TopUpRulesEntity } from '../entities/top-up-rules.entity';
import { postJournal } from './ledger.service';
import { lockWallet } from './wallet-account.service';
import { insufficientFunds, walletFrozen } from './errors';

export const TOP_UP_CHANNELS = ['STORE', 'WEB', 'APP', 'MINI_PROGRAM'] as const;
export type TopUpChannel = (typeof TOP_UP_CHANNELS)[number];

export interface TopUpInput {
  memberId: string;
  amount: number;
  paymentRef: string;
  channel: TopUpChannel;
  storeId?: string | null;
  idempotencyKey: string;
}

/** Checks a text field's length, naming it in the error. */
export function checkText(field: string, value: string | null | undefined, max: number, required = true): void {
  if (value === null || value === undefined || value.trim() === '') {
    if (required) throw badField(field, `${field} is required`);
    return;
  }
  if (value.length > max) throw badField(field, `${field} must be at most ${max} characters`);
}

/** Checks an amount of fen: a whole number from 1 up to `max`. */
export function checkAmount(field: string, value: number, max = MAX_TOP_UP): void {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw badField(field, `${field} must be a whole number of fen between 1 and ${max}`);
}

function validateTopUp(input: TopUpInput) {
  checkText('memberId', input.memberId, 26);
  checkAmount('amount', input.amount);
  checkText('paymentRef', input.paymentRef, 100);
  if (!TOP_UP_CHANNELS.includes(input.channel)) throw badField('channel', 'channel is not a top-up channel');
  checkText('storeId', input.storeId, 64, input.channel === 'STORE');
  checkText('idempotencyKey', input.idempotencyKey, 128);
}

/** The rules in force, with who changed them last (null: the defaults). */
export async function currentRules(em: EntityManager): Promise<TopUpRules & { updatedAt: Date | null; updatedBy: string | null }> {
  const row = await em.getRepository(TopUpRulesEntity).findOneBy({ id: 1 });
  if (!row) return { ...DEFAULT_TOP_UP_RULES, updatedAt: null, updatedBy: null };
  return { ...parseRules(row.rules), updatedAt: row.updatedAt, updatedBy: row.updatedBy };
}

/** Replaces the rules after checking every field; audited in the same transaction. */
export async function updateRules(em: EntityManager, actor: string, input: TopUpRules) {
  const defects = topUpRulesDefects(input);
  if (defects.length) {
    const [first] = defects;
    throw badField(first!.field, `${first!.field} ${first!.message}`, { defects });
  }
  const rules = normalizeRules(input);
  const updatedAt = new Date();
  await em.getRepository(TopUpRulesEntity).save({ id: 1, rules: serializeRules(rules), updatedAt, updatedBy: actor });
  await audit(em, actor, 'TOP_UP_RULES_UPDATED', 'top-up-rules', { rules: JSON.parse(serializeRules(rules)) });
  return { ...rules, updatedAt, updatedBy: actor };
}

async function hasToppedUp(em: EntityManager, memberId: string): Promise<boolean> {
  return em.getRepository(TopUpEntity).existsBy({ memberId });
}

/** What a top-up of `amount` would load now (no lock: a preview, not a promise). */
export async function previewTopUp(em: EntityManager, memberId: string, amount: number, now = new Date()) {
  checkText('memberId', memberId, 26);
  checkAmount('amount', amount);
  const rules = await currentRules(em);
  const { principal, bonus } = topUpBonus(amount, rules, { firstTopUp: !(await hasToppedUp(em, memberId)) }, now);
  return { principal, bonus };
}

/**
 * Loads a confirmed payment into the member's wallet with its bonus, once per idempotency key and
 * once per payment reference. The account lock serialises a member's top-ups, so "first top-up" is
 * decided exactly once.
 */
export async function topUp(kit: ServiceKit, em: EntityManager, input: TopUpInput): Promise<TopUpRow> {
  validateTopUp(input);
  const storeId = input.storeId?.trim() ? input.storeId : null;
  const facts = { memberId: input.memberId, amount: input.amount, paymentRef: input.paymentRef, channel: input.channel, storeId };
  const id = await idempotent(em, { operation: 'topUp', key: input.idempotencyKey, input: facts }, () => loadPayment(kit, em, facts));
  return em.getRepository(TopUpEntity).findOneByOrFail({ id });
}

/** The top-up itself, run once per key: returns the new top-up's id. */
async function loadPayment(kit: ServiceKit, em: EntityManager, input: Omit<TopUpInput, 'idempotencyKey'> & { storeId: string | null }): Promise<string> {
  const account = await lockWallet(em, input.memberId);
  // No account: the member is unknown here (or registration is still on its way). Money is never
  // loaded into a wallet the service has not opened; the payer retries.
  if (!account) throw notFound('Wallet');
  if (account.status === WalletStatus.FROZEN) throw walletFrozen(input.memberId);
  if (await em.getRepository(TopUpEntity).existsBy({ paymentRef: input.paymentRef })) {
    throw conflict('paymentRef was already topped up', { field: 'paymentRef' });
  }
  const now = new Date();
  const rules = await currentRules(em);
  const { bonus } = topUpBonus(input.amount, rules, { firstTopUp: !(await hasToppedUp(em, input.memberId)) }, now);

  const row: TopUpRow = {
    id: newId(),
    memberId: input.memberId,
    amount: input.amount,
    bonus,
    paymentRef: input.paymentRef,
    channel: input.channel,
    storeId: input.storeId,
    status: TopUpStatus.COMPLETED,
    journalId: newId(),
    createdAt: now,
  };
  try {
    await em.getRepository(TopUpEntity).insert(row);
  } catch (err) {
    // The same payment topped up concurrently under another key (and another member's lock).
    if (isDuplicateKey(err)) throw conflict('paymentRef was already topped up', { field: 'paymentRef' });
    throw err;
  }
  await postJournal(kit, em, {
    id: row.journalId,
    kind: JournalKind.TOP_UP,
    memberId: input.memberId,
    reference: row.id,
    postings: topUpPostings(input.memberId, input.amount, bonus),
    before: account,
  });
  return row.id;
}

/**
 * Refunds a top-up once: its whole principal leaves the wallet, the part not covering already
 * spent bonus goes back to the payer, and its bonus still in the wallet is taken back. Allowed on a
 * frozen wallet (returning money to where it came from is how staff wind one down).
 */
export async function refundTopUp(kit: ServiceKit, em: EntityManager, input: { topUpId: string; idempotencyKey: string }): Promise<TopUpRefundRow> {
  checkText('topUpId', input.topUpId, 26);
  checkText('idempotencyKey', input.idempotencyKey, 128);
  const id = await idempotent(em, { operation: 'refundTopUp', key: input.idempotencyKey, input: { topUpId: input.topUpId } }, () => refundOnce(kit, em, input.topUpId));
  return em.getRepository(TopUpRefundEntity).findOneByOrFail({ id });
}

/** The refund itself, run once per key: returns the new refund's id. */
async function refundOnce(kit: ServiceKit, em: EntityManager, topUpId: string): Promise<string> {
  const found = await em.getRepository(TopUpEntity).findOneBy({ id: topUpId });
  if (!found) throw notFound('Top-up');
  const account = await lockWallet(em, found.memberId);
  if (!account) throw new Error(`top-up ${found.id} has no wallet`);
  // Read again under the member's lock: a concurrent refund of the same top-up has committed by now.
  const top = await em.getRepository(TopUpEntity).findOneByOrFail({ id: topUpId });
  if (top.status === TopUpStatus.REFUNDED) throw conflict('The top-up was already refunded', { field: 'topUpId' });
  const plan = planRefund({ principal: top.amount, bonus: top.bonus }, account);
  if (!plan) {
    throw insufficientFunds('The wallet no longer holds the principal of this top-up', { field: 'topUpId', principal: account.principal, needed: top.amount });
  }
  const refund: TopUpRefundRow = {
    id: newId(),
    topUpId: top.id,
    memberId: top.memberId,
    principalReturned: plan.principalReturned,
    bonusTakenBack: plan.bonusTakenBack,
    bonusFromPrincipal: plan.bonusFromPrincipal,
    journalId: newId(),
    createdAt: new Date(),
  };
  await em.getRepository(TopUpRefundEntity).insert(refund);
  await em.getRepository(TopUpEntity).update({ id: top.id }, { status: TopUpStatus.REFUNDED });
  await postJournal(kit, em, {
    id: refund.journalId,
    kind: JournalKind.TOP_UP_REFUND,
    memberId: top.memberId,
    reference: refund.id,
    postings: refundPostings(top.memberId, top.amount, plan),
    before: account,
  });
  return refund.id;
}
