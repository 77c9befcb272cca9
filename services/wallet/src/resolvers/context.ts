import type { ServiceContext } from '@membergraph/platform';
import type { WalletView } from '../domain/wallet';
import type { TopUpRules } from '../domain/top-up';
import type { WalletLoaders } from './loaders';

/** The GraphQL context of the wallet subgraph. */
export type Ctx = ServiceContext<WalletLoaders>;

/** A member as this subgraph knows it: only the id the gateway sends. */
export interface MemberRef {
  id: string;
}

/** A wallet as resolved: what is shown, plus whose it is (for its history). */
export type WalletModel = WalletView & { memberId: string };

/** The rules in force with who changed them last. */
export type TopUpRulesModel = TopUpRules & { updatedAt: Date | null; updatedBy: string | null };

/** An order as this subgraph knows it: only the id the gateway sends. */
export interface OrderRef {
  id: string;
}
