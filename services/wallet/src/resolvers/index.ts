import {
  Role,
  STAFF_READ,
  requireAuth,
  requireMemberAccess,
  requirePermission,
  forbidden,
  isAllowed,
  type Permission,
  type ServiceKit,
} from '@membergraph/platform';
import type { WalletConfig } from '../config';
import type { Resolvers } from '../generated/graphql';
import { WalletStatus, walletView } from '../domain/wallet';
import { changeWalletStatus, historyPage } from '../services/wallet-account.service';
import { currentRules, loadTopUp, previewTopUp, refundTopUp, updateRules } from '../services/top-up.service';
import { debitWallet } from '../services/debit.service';
import { auditLedger } from '../services/ledger-audit.service';
import { checkText } from '../services/top-up.service';
import { checkoutDeps, findPayment, pay, type SagaHooks } from '../services/checkout.service';
import { refundPayment, settleRefund } from '../services/payment-refund.service';
import { PaymentEntity, type PaymentRow } from '../entities/payment.entity';
import { activateCards, bindCard, findCard, giftCard, issueCardBatch, prepareCards, voidCard } from '../services/card.service';
import { walletReconciliation } from '../services/reconciliation.service';
import { cardStatus } from '../domain/card';

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
/** Binding and gifting cards: members only, for their own wallet. */
const requireMember = (ctx: Parameters<typeof requireAuth>[0]) => {
  const who = requireAuth(ctx);
  if (who.kind !== 'member') throw forbidden('Only a member binds or gifts cards, for their own wallet');
  return who;
};
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
        return previewTopUp(checkout, memberId, amount);
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
      walletReconciliation: (_, { date, storeId }, ctx) => {
        requirePermission(ctx, FINANCE_ONLY);
        return walletReconciliation(kit, date, storeId);
      },
      storedValueCard: (_, { number }, ctx) => {
        requirePermission(ctx, FINANCE_ONLY);
        checkText('number', number, 19);
        return findCard(kit.ds.manager, number);
      },
    },
    Mutation: {
      topUp: (_, { input }, ctx) => {
        requirePermission(ctx, TOP_UP);
        // The member's birth month is asked (when the rules need it) before the unit of work opens.
        return loadTopUp(checkout, input);
      },
      refundTopUp: (_, { input }, ctx) => {
        requirePermission(ctx, REFUND_TOP_UP);
        return kit.uow((em) => refundTopUp(kit, em, input));
      },
      updateTopUpRules: (_, { input }, ctx) => {
        const who = requirePermission(ctx, FINANCE_ONLY);
        return kit.uow((em) => updateRules(em, who.sub, input));
      },
      freezeWallet: (_, { input }, ctx) => {
        const who = requirePermission(ctx, FINANCE_ONLY);
        return kit.uow((em) => changeWalletStatus(em, who.sub, input, WalletStatus.FROZEN));
      },
      unfreezeWallet: (_, { input }, ctx) => {
        const who = requirePermission(ctx, FINANCE_ONLY);
        return kit.uow((em) => changeWalletStatus(em, who.sub, input, WalletStatus.ACTIVE));
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
      refundPayment: async (_, { input }, ctx) => {
        requirePermission(ctx, REFUND_TOP_UP);
        const refund = await kit.uow((em) => refundPayment(kit, em, input));
        // Points and coupon go back after commit (remote calls never run inside a transaction).
        return settleRefund(checkout, refund.id);
      },
      issueCardBatch: async (_, { input }, ctx) => {
        const who = requirePermission(ctx, FINANCE_ONLY);
        const prepared = await prepareCards(input);
        return kit.uow((em) => issueCardBatch(em, who.sub, input, prepared));
      },
      activateCards: (_, { input }, ctx) => {
        const who = requirePermission(ctx, FINANCE_ONLY);
        return kit.uow((em) => activateCards(em, who.sub, input));
      },
      voidCard: (_, { input }, ctx) => {
        const who = requirePermission(ctx, FINANCE_ONLY);
        return kit.uow((em) => voidCard(em, who.sub, input));
      },
      bindCard: (_, { input }, ctx) => bindCard(kit, requireMember(ctx).sub, input),
      giftCard: (_, { input }, ctx) => giftCard(kit, requireMember(ctx).sub, input),
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
    StoredValueCard: {
      status: (c) => cardStatus(c, new Date()),
    },
    Order: {
      __resolveReference: (ref) => ({ id: ref.id }),
      payments: async (order, _, ctx) => {
        const who = requireAuth(ctx);
        const payments = await ctx.loaders.paymentsByOrder.load(order.id);
        if (who.kind === 'member') return payments.filter((p) => p.memberId === who.sub);
        if (!isAllowed(who, PAYMENT_READ)) throw forbidden();
        return payments;
      },
    },
    PaymentRefund: {
      // Reached only through refundPayment, which checked the caller.
      payment: async (r): Promise<PaymentRow> => kit.ds.getRepository(PaymentEntity).findOneByOrFail({ id: r.paymentId }),
      pointsStatus: (r) => r.pointsStep,
    },
    Wallet: {
      // Reached only through Member.wallet or a staff mutation, both of which checked the caller.
      history: (wallet, args) => historyPage(kit.ds.manager, wallet.memberId, args),
    },
  };
}

export { walletLoaders, type WalletLoaders } from './loaders';
