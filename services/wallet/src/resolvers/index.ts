import {
  Role,
  STAFF_READ,
  requireMemberAccess,
  requirePermission,
  type Permission,
  type ServiceKit,
} from '@membergraph/platform';
import type { WalletConfig } from '../config';
import type { Resolvers } from '../generated/graphql';
import { WalletStatus, walletView } from '../domain/wallet';
import { historyPage, setWalletStatus } from '../services/wallet-account.service';
import { currentRules, previewTopUp, refundTopUp, topUp, updateRules } from '../services/top-up.service';
import { debitWallet } from '../services/debit.service';
import { auditLedger } from '../services/ledger-audit.service';
import { checkText } from '../services/top-up.service';

/** Back-office readers of member data plus FINANCE (already among them today, kept explicit). */
export const WALLET_READ: Permission = {
  roles: [...new Set([...(STAFF_READ.roles ?? []), Role.FINANCE])],
  scopes: [...new Set([...(STAFF_READ.scopes ?? []), 'wallet:read'])],
};
/** Finance staff (and ADMIN, who may do everything). */
export const FINANCE_ONLY: Permission = { roles: [Role.FINANCE] };
/** Loading confirmed payments: the payment integration or finance staff. */
export const TOP_UP: Permission = { roles: [Role.FINANCE], scopes: ['wallet:topup'] };
export const REFUND_TOP_UP: Permission = { roles: [Role.FINANCE], scopes: ['wallet:refund'] };
/** Interim spending until checkout payments land: a client with the scope, or ADMIN. */
export const DEBIT: Permission = { roles: [], scopes: ['wallet:debit'] };
export const PREVIEW_TOP_UP: Permission = { roles: WALLET_READ.roles, scopes: [...(WALLET_READ.scopes ?? []), 'wallet:topup'] };

export function walletResolvers(kit: ServiceKit<WalletConfig>): Resolvers {
  return {
    Query: {
      topUpRules: (_, __, ctx) => {
        requirePermission(ctx, FINANCE_ONLY);
        return currentRules(kit.ds.manager);
      },
      previewTopUp: (_, { memberId, amount }, ctx) => {
        requireMemberAccess(ctx, memberId, PREVIEW_TOP_UP);
        return previewTopUp(kit.ds.manager, memberId, amount);
      },
      walletAudit: (_, __, ctx) => {
        requirePermission(ctx, FINANCE_ONLY);
        return auditLedger(kit.ds);
      },
    },
    Mutation: {
      topUp: (_, { input }, ctx) => {
        requirePermission(ctx, TOP_UP);
        return kit.uow((em) => topUp(kit, em, input));
      },
      refundTopUp: (_, { input }, ctx) => {
        requirePermission(ctx, REFUND_TOP_UP);
        return kit.uow((em) => refundTopUp(kit, em, input));
      },
      updateTopUpRules: (_, { input }, ctx) => {
        const who = requirePermission(ctx, FINANCE_ONLY);
        return kit.uow((em) => updateRules(em, who.sub, input));
      },
      freezeWallet: async (_, { input }, ctx) => {
        const who = requirePermission(ctx, FINANCE_ONLY);
        checkText('memberId', input.memberId, 26);
        checkText('reason', input.reason, 500);
        const account = await kit.uow((em) => setWalletStatus(em, who.sub, input, WalletStatus.FROZEN));
        return { ...walletView(account), memberId: account.memberId };
      },
      unfreezeWallet: async (_, { input }, ctx) => {
        const who = requirePermission(ctx, FINANCE_ONLY);
        checkText('memberId', input.memberId, 26);
        checkText('reason', input.reason, 500);
        const account = await kit.uow((em) => setWalletStatus(em, who.sub, input, WalletStatus.ACTIVE));
        return { ...walletView(account), memberId: account.memberId };
      },
      debitWallet: (_, { input }, ctx) => {
        requirePermission(ctx, DEBIT);
        return kit.uow((em) => debitWallet(kit, em, input));
      },
    },
    Member: {
      // The reference carries only the id; `wallet` checks who is asking before anything is read.
      __resolveReference: (ref) => ({ id: ref.id }),
      wallet: async (member, _, ctx) => {
        requireMemberAccess(ctx, member.id, WALLET_READ);
        return { ...walletView(await ctx.loaders.account.load(member.id)), memberId: member.id };
      },
    },
    Wallet: {
      // Reached only through Member.wallet or a staff mutation, both of which checked the caller.
      history: (wallet, args) => historyPage(kit.ds.manager, wallet.memberId, args),
    },
  };
}

export { walletLoaders, type WalletLoaders } from './loaders';
