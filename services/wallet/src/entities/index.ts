import { WalletAccountEntity } from './wallet-account.entity';

export const entities = [WalletAccountEntity];
