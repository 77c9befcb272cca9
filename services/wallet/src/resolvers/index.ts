import { Role, STAFF_READ, requireMemberAccess, type Permission, type ServiceKit } from '@membergraph/platform';
import type { WalletConfig } from '../config';
import type { Resolvers } from '../generated/graphql';
import { walletView } from '../domain/wallet';

/** Back-office readers of member data plus FINANCE (already among them today, kept explicit). */
export const WALLET_READ: Permission = {
  roles: [...new Set([...(STAFF_READ.roles ?? []), Role.FINANCE])],
  scopes: [...new Set([...(STAFF_READ.scopes ?? []), 'wallet:read'])],
};

export function walletResolvers(_kit: ServiceKit<WalletConfig>): Resolvers {
  return {
    Member: {
      // The reference carries only the id; `wallet` checks who is asking before anything is read.
      __resolveReference: (ref) => ({ id: ref.id }),
      wallet: async (member, _, ctx) => {
        requireMemberAccess(ctx, member.id, WALLET_READ);
        return walletView(await ctx.loaders.account.load(member.id));
      },
    },
  };
}

export { walletLoaders, type WalletLoaders } from './loaders';
