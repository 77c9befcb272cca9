import type { EntityManager } from 'typeorm';
import { idempotent, newId, notFound, type ServiceKit } from '@membergraph/platform';
import { JournalKind, debitPostings, planDebit, SpendOrder } from '../domain/ledger';
import { DebitEntity, type DebitRow } from '../entities/debit.entity';
import { postJournal } from './ledger.service';
import { assertMayMoveMoney, lockWallet } from './wallet-account.service';
import { checkAmount, checkText } from './top-up.service';
import { insufficientFunds } from './errors';

export interface DebitInput {
  memberId: string;
  amount: number;
  reference: string;
  idempotencyKey: string;
}

/**
 * Spends balance, principal first, once per idempotency key. Check-and-debit happens under the
 * member's account lock, so concurrent spends queue and none can overdraw.
 */
export async function debitWallet(kit: ServiceKit, em: EntityManager, input: DebitInput): Promise<DebitRow> {
  checkText('memberId', input.memberId, 26);
  checkAmount('amount', input.amount);
  checkText('reference', input.reference, 100);
  checkText('idempotencyKey', input.idempotencyKey, 128);
  const facts = { memberId: input.memberId, amount: input.amount, reference: input.reference };
  const id = await idempotent(em, { operation: 'debitWallet', key: input.idempotencyKey, input: facts }, () => debitOnce(kit, em, facts));
  return em.getRepository(DebitEntity).findOneByOrFail({ id });
}

/** The debit itself, run once per key: returns the new debit's id. */
async function debitOnce(kit: ServiceKit, em: EntityManager, input: Omit<DebitInput, 'idempotencyKey'>): Promise<string> {
  const account = await lockWallet(em, input.memberId);
  if (!account) throw notFound('Wallet');
  assertMayMoveMoney(account);
  const split = planDebit(input.amount, account, SpendOrder.PRINCIPAL_FIRST);
  if (!split) {
    throw insufficientFunds('The wallet balance does not cover the amount', { field: 'amount', balance: account.principal + account.bonus });
  }
  const row: DebitRow = {
    id: newId(),
    memberId: input.memberId,
    amount: input.amount,
    fromPrincipal: split.principal,
    fromBonus: split.bonus,
    reference: input.reference,
    journalId: newId(),
    createdAt: new Date(),
  };
  await em.getRepository(DebitEntity).insert(row);
  await postJournal(kit, em, {
    id: row.journalId,
    kind: JournalKind.DEBIT,
    memberId: input.memberId,
    reference: row.id,
    postings: debitPostings(input.memberId, split),
    before: account,
  });
  return row.id;
}
