import { MoreThan, MoreThanOrEqual, type EntityManager } from 'typeorm';
import { AppError, ErrorCode, IdempotencyKeyEntity, audit, badField, conflict, idempotent, isDuplicateKey, newId, notFound, type ServiceKit } from '@membergraph/platform';
import type { WalletConfig } from '../config';
import { JournalKind, planRefund, refundPostings, topUpPostings } from '../domain/ledger';
import {
  DEFAULT_TOP_UP_RULES,
  MAX_TOP_UP,
  birthdayBonusApplies,
  calendarMonthStart,
  inBirthdayMonth,
  normalizeRules,
  parseRules,
  serializeRules,
  topUpBonus,
  topUpRulesDefects,
  type TopUpRules,
} from '../domain/top-up';
import { TopUpEntity, TopUpStatus, type TopUpRow } from '../entities/top-up.entity';
import { TopUpRefundEntity, type TopUpRefundRow } from '../entities/top-up-refund.entity';
import { TopUpRulesEntity } from '../entities/top-up-rules.entity';
import { postJournal } from './ledger.service';
import { assertMayMoveMoney, lockWallet } from './wallet-account.service';
import { insufficientFunds } from './errors';
import type { MemberPort } from './remote-calls';

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

/** New rules as the API takes them. */
export type TopUpRulesInput = Omit<TopUpRules, 'birthdayMonthBonus' | 'birthdayMonthMinAmount'> & {
  birthdayMonthBonus?: number | null;
  birthdayMonthMinAmount?: number | null;
  idempotencyKey: string;
};

/**
 * Replaces the rules after checking every field; audited in the same transaction. Once per
 * idempotency key: a retry with the same rules (in any order) replays the rules as they were saved
 * then, with their time and author, even if they have been replaced since; other rules are CONFLICT.
 */
export async function updateRules(em: EntityManager, actor: string, input: TopUpRulesInput) {
  // The birthday-month fields came later: absent (or null) means no birthday extra.
  const { idempotencyKey, ...fields } = input;
  const asked: TopUpRules = { ...fields, birthdayMonthBonus: fields.birthdayMonthBonus ?? 0, birthdayMonthMinAmount: fields.birthdayMonthMinAmount ?? 0 };
  const defects = topUpRulesDefects(asked);
  if (defects.length) {
    const [first] = defects;
    throw badField(first!.field, `${first!.field} ${first!.message}`, { defects });
  }
  checkText('idempotencyKey', idempotencyKey, 128);
  const rules = normalizeRules(asked);
  const stored = serializeRules(rules);
  const saved = await idempotent(em, { operation: 'updateTopUpRules', key: idempotencyKey, input: JSON.parse(stored) }, async () => {
    const updatedAt = new Date();
    await em.getRepository(TopUpRulesEntity).save({ id: 1, rules: stored, updatedAt, updatedBy: actor });
    await audit(em, actor, 'TOP_UP_RULES_UPDATED', 'top-up-rules', { rules: JSON.parse(stored) });
    return { rules: stored, updatedAt: updatedAt.toISOString(), updatedBy: actor };
  });
  return { ...parseRules(saved.rules), updatedAt: new Date(saved.updatedAt), updatedBy: saved.updatedBy };
}

async function hasToppedUp(em: EntityManager, memberId: string): Promise<boolean> {
  return em.getRepository(TopUpEntity).existsBy({ memberId });
}

/**
 * What the rules need to know of the member that only the member service knows: the birth month
 * (1-12, null when unknown or erased). Asked over NATS only when the rules grant a birthday-month
 * extra that the amount could earn; never stored here.
 */
export interface MemberFacts {
  birthMonth: number | null;
}

/** The kit and the member service's port, which top-ups and previews need. */
export interface TopUpDeps {
  kit: ServiceKit<WalletConfig>;
  member: MemberPort;
}

/**
 * The member service did not answer, so the birthday-month extra cannot be decided. The top-up is
 * refused with nothing written (the idempotency claim rolls back too): the payment integration
 * retries with the same key and gets the bonus the rules promise.
 */
export const memberUnavailable = (detail: string) =>
  new AppError(ErrorCode.UNAVAILABLE, 'The member service did not answer, so the birthday-month bonus cannot be worked out now; retry with the same idempotency key', {
    reason: 'MEMBER_UNAVAILABLE',
    retryAfterSeconds: 1,
    detail: detail.slice(0, 200),
  });

/**
 * Asks the member service for the member's birth month when the rules in force could grant a
 * birthday-month extra on `amount`; undefined when they cannot (nothing is asked). A refusal (the
 * member service does not know the member) reads as an unknown month: no extra. Silence throws
 * {@link memberUnavailable}. Runs outside any transaction (remote calls never hold locks).
 */
export async function memberFactsFor(deps: TopUpDeps, memberId: string, amount: number): Promise<MemberFacts | undefined> {
  const rules = await currentRules(deps.kit.ds.manager);
  if (!birthdayBonusApplies(amount, rules)) return undefined;
  const r = await deps.member.birthMonth({ memberId });
  if (r.kind === 'ok') return { birthMonth: r.value.month };
  if (r.kind === 'refused') {
    deps.kit.log.warn({ memberId, code: r.code }, 'member service refused the birth month: no birthday-month bonus');
    return { birthMonth: null };
  }
  throw memberUnavailable(r.message);
}

/**
 * Whether the birthday-month extra is due on this top-up: the rules grant one for `amount`, the
 * top-up falls in the member's birth month (BUSINESS_TIME_ZONE calendar), and no top-up of theirs
 * since that month began earned it (refunded ones count: refund-and-redo cannot farm it). Under the
 * member's lock this is decided exactly once. Facts not asked although the rules now need them
 * (they changed meanwhile): the same retryable refusal as a silent member service.
 */
async function birthdayBonusDue(
  kit: ServiceKit<WalletConfig>,
  em: EntityManager,
  memberId: string,
  amount: number,
  rules: TopUpRules,
  facts: MemberFacts | undefined,
  now: Date,
): Promise<boolean> {
  if (!birthdayBonusApplies(amount, rules)) return false;
  if (!facts) throw memberUnavailable('the top-up rules changed while the top-up was being prepared');
  const timeZone = kit.config.BUSINESS_TIME_ZONE;
  if (!inBirthdayMonth(facts.birthMonth, now, timeZone)) return false;
  const had = await em.getRepository(TopUpEntity).existsBy({ memberId, birthdayBonus: MoreThan(0), createdAt: MoreThanOrEqual(calendarMonthStart(now, timeZone)) });
  return !had;
}

/** What a top-up of `amount` would load now (no lock: a preview, not a promise). Asks the member service when a birthday-month extra could apply. */
export async function previewTopUp(deps: TopUpDeps, memberId: string, amount: number, now = new Date()) {
  checkText('memberId', memberId, 26);
  checkAmount('amount', amount);
  const facts = await memberFactsFor(deps, memberId, amount);
  const em = deps.kit.ds.manager;
  const rules = await currentRules(em);
  const member = {
    firstTopUp: !(await hasToppedUp(em, memberId)),
    birthdayBonusDue: await birthdayBonusDue(deps.kit, em, memberId, amount, rules, facts, now),
  };
  const { principal, bonus } = topUpBonus(amount, rules, member, now);
  return { principal, bonus };
}

/**
 * A top-up as the API runs it: the member's birth month is asked first when the rules could
 * grant a birthday-month extra (outside the transaction), then {@link topUp} runs in one unit of
 * work. A key already used asks nothing: its first result is replayed.
 */
export async function loadTopUp(deps: TopUpDeps, input: TopUpInput): Promise<TopUpRow> {
  validateTopUp(input);
  const { kit } = deps;
  const used = await kit.ds.getRepository(IdempotencyKeyEntity).existsBy({ operation: 'topUp', key: input.idempotencyKey });
  const facts = used ? undefined : await memberFactsFor(deps, input.memberId, input.amount);
  return kit.uow((em) => topUp(kit, em, input, facts));
}

/**
 * Loads a confirmed payment into the member's wallet with its bonus, once per idempotency key and
 * once per payment reference. The account lock serialises a member's top-ups, so "first top-up"
 * and "first in the birthday month" are decided exactly once. `facts`: what the member service said
 * (see {@link loadTopUp}), needed only when the rules grant a birthday-month extra.
 */
export async function topUp(kit: ServiceKit<WalletConfig>, em: EntityManager, input: TopUpInput, facts?: MemberFacts): Promise<TopUpRow> {
  validateTopUp(input);
  const storeId = input.storeId?.trim() ? input.storeId : null;
  const request = { memberId: input.memberId, amount: input.amount, paymentRef: input.paymentRef, channel: input.channel, storeId };
  const id = await idempotent(em, { operation: 'topUp', key: input.idempotencyKey, input: request }, () => loadPayment(kit, em, request, facts));
  return em.getRepository(TopUpEntity).findOneByOrFail({ id });
}

/** The top-up itself, run once per key: returns the new top-up's id. */
async function loadPayment(
  kit: ServiceKit<WalletConfig>,
  em: EntityManager,
  input: Omit<TopUpInput, 'idempotencyKey'> & { storeId: string | null },
  facts: MemberFacts | undefined,
): Promise<string> {
  const account = await lockWallet(em, input.memberId);
  // No account: the member is unknown here (or registration is still on its way). Money is never
  // loaded into a wallet the service has not opened; the payer retries.
  if (!account) throw notFound('Wallet');
  // A frozen wallet, or a member frozen, blacklisted or erased by the member service, loads nothing.
  assertMayMoveMoney(account);
  if (await em.getRepository(TopUpEntity).existsBy({ paymentRef: input.paymentRef })) {
    throw conflict('paymentRef was already topped up', { field: 'paymentRef' });
  }
  const now = new Date();
  const rules = await currentRules(em);
  const member = {
    firstTopUp: !(await hasToppedUp(em, input.memberId)),
    birthdayBonusDue: await birthdayBonusDue(kit, em, input.memberId, input.amount, rules, facts, now),
  };
  const { bonus, birthdayBonus } = topUpBonus(input.amount, rules, member, now);

  const row: TopUpRow = {
    id: newId(),
    memberId: input.memberId,
    amount: input.amount,
    bonus,
    birthdayBonus,
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
