import { newId, Role } from '@membergraph/platform';
import { gql, tokenFor } from '@membergraph/testkit';
import type { DataSource } from 'typeorm';
import { openWallet } from '../src/services/wallet-account.service';
import type { createApp } from '../src/app';

type App = ReturnType<typeof createApp>;

export const TOP_UP = `mutation($input: TopUpInput!) { topUp(input: $input) { id memberId amount bonus paymentRef channel storeId status createdAt } }`;
export const REFUND = `mutation($input: RefundTopUpInput!) { refundTopUp(input: $input) { id topUpId principalReturned bonusTakenBack bonusFromPrincipal } }`;
export const DEBIT = `mutation($input: DebitWalletInput!) { debitWallet(input: $input) { id memberId amount fromPrincipal fromBonus reference } }`;
export const AUDIT = `{ walletAudit { ok journalsChecked differences { kind detail } } }`;
export const WALLET = `query($reps: [_Any!]!, $first: Int, $after: String) { _entities(representations: $reps) { ... on Member { id wallet { balance principal bonus status history(first: $first, after: $after) { edges { cursor node { id journalId kind account amount reference } } pageInfo { hasNextPage endCursor } } } } } }`;

export const financeToken = () => tokenFor([Role.FINANCE], { sub: 'finance-1' });
export const payClient = () => tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'pay', scopes: ['wallet:topup', 'wallet:refund', 'wallet:debit'] });
export const memberToken = (memberId: string) => tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });

/** Opens a wallet for a fresh member, as the registration event would. */
export async function openMember(app: App): Promise<string> {
  const memberId = newId();
  await app.kit.uow((em) => openWallet(app.kit, em, memberId));
  return memberId;
}

export function topUpInput(memberId: string, amount: number, extra: Record<string, unknown> = {}) {
  return { memberId, amount, paymentRef: `pay-${newId()}`, channel: 'APP', idempotencyKey: `k-${newId()}`, ...extra };
}

export async function walletOf(url: string, memberId: string, token?: string, page: { first?: number; after?: string } = {}) {
  const res = await gql(url, WALLET, { reps: [{ __typename: 'Member', id: memberId }], ...page }, token ?? (await financeToken()));
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data._entities[0].wallet;
}

export const count = async (ds: DataSource, sql: string, params: unknown[] = []) => Number((await ds.query(sql, params))[0].n);

/** Everything that must not change when a request is refused. */
export async function ledgerFootprint(ds: DataSource) {
  const [row] = await ds.query(`SELECT
    (SELECT COUNT(*) FROM wallet_journal) AS journals, (SELECT COUNT(*) FROM wallet_entry) AS entries,
    (SELECT COUNT(*) FROM wallet_top_up) AS topUps, (SELECT COUNT(*) FROM wallet_top_up_refund) AS refunds,
    (SELECT COUNT(*) FROM wallet_debit) AS debits, (SELECT COUNT(*) FROM idempotency_key) AS keyss,
    (SELECT COUNT(*) FROM outbox WHERE type = 'wallet.changed') AS events,
    (SELECT COALESCE(SUM(principal), 0) + COALESCE(SUM(bonus), 0) FROM wallet_account) AS owed`);
  return row;
}

export const gqlAs = async (url: string, query: string, variables: Record<string, unknown>, token: Promise<string> | string) => gql(url, query, variables, await token);
