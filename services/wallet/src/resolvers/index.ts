import {
  Role,
  STAFF_READ,
  requireAuth,
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
import { checkoutDeps, findPayment, pay, type SagaHooks } from '../services/checkout.service';
import { refundPayment } from '../services/payment-refund.service';
import { PaymentEntity, type PaymentRow } from '../entities/payment.entity';

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
/** Paying: the member themself (object check), a client with `wallet:pay`, or ADMIN. */
export const PAY: Permission = { roles: [], scopes: ['wallet:pay'] };
/** Reading a payment: the paying member, back-office readers, clients that pay or read wallets. */
export const PAYMENT_READ: Permission = { roles: WALLET_READ.roles, scopes: [...(WALLET_READ.scopes ?? []), 'wallet:pay'] };
export const PREVIEW_TOP_UP: Permission = { roles: WALLET_READ.roles, scopes: [...(WALLET_READ.scopes ?? []), 'wallet:topup'] };

export function walletResolvers(kit: ServiceKit<WalletConfig>, hooks: SagaHooks = {}): Resolvers {
  const checkout = checkoutDeps(kit, hooks);
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
      payment: async (_, { id }, ctx) => {
        requireAuth(ctx);
        checkText('id', id, 26);
        const payment = await findPayment(checkout, id);
        // Who may see it depends on whose it is; a stranger learns nothing more than "not yours".
        if (payment) requireMemberAccess(ctx, payment.memberId, PAYMENT_READ);
        else requirePermission(ctx, PAYMENT_READ);
        return payment;
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
      pay: (_, { input }, ctx) => {
        requireAuth(ctx);
        checkText('memberId', input.memberId, 26);
        requireMemberAccess(ctx, input.memberId, PAY);
        // The saga opens its own short units of work: remote calls never run inside a transaction.
        return pay(checkout, input);
      },
      refundPayment: (_, { input }, ctx) => {
        requirePermission(ctx, REFUND_TOP_UP);
        return kit.uow((em) => refundPayment(kit, em, input));
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
    Payment: {
      refundedAmount: (p) => p.refundedPrincipal + p.refundedBonus,
    },
    PaymentRefund: {
      // Reached only through refundPayment, which checked the caller.
      payment: async (r): Promise<PaymentRow> => kit.ds.getRepository(PaymentEntity).findOneByOrFail({ id: r.paymentId }),
    },
    Wallet: {
      // Reached only through Member.wallet or a staff mutation, both of which checked the caller.
      history: (wallet, args) => historyPage(kit.ds.manager, wallet.memberId, args),
    },
  };
}

export { walletLoaders, type WalletLoaders } from './loaders';
