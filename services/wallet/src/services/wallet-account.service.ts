import { In, type EntityManager } from 'typeorm';
import { isDuplicateKey, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import type { WalletConfig } from '../config';
import { WalletAccountEntity, type WalletAccountRow } from '../entities/wallet-account.entity';
import { WalletStatus } from '../domain/wallet';

/**
 * Opens the member's wallet once and announces `wallet.opened` in the same transaction. Returns
 * false when it was open already (a redelivered or repeated registration), which changes nothing.
 */
export async function openWallet(kit: ServiceKit<WalletConfig>, em: EntityManager, memberId: string): Promise<boolean> {
  const now = new Date();
  try {
    // A plain INSERT rather than INSERT IGNORE: IGNORE would also turn strict-mode errors (an
    // over-long id) into warnings and store a truncated key. Only the duplicate is expected.
    await em.getRepository(WalletAccountEntity).insert({
      memberId,
      principal: 0,
      bonus: 0,
      status: WalletStatus.ACTIVE,
      currency: kit.config.WALLET_CURRENCY,
      createdAt: now,
      updatedAt: now,
    });
  } catch (err) {
    // MySQL rolls back only the failed statement: the transaction (and its inbox row) stays good.
    if (isDuplicateKey(err)) return false;
    throw err;
  }
  await kit.publish(em, EventType.WalletOpened, memberId, checkedData(EventType.WalletOpened, { memberId }));
  return true;
}

/** Accounts by member id, in the order asked, null where none is open yet. */
export async function walletsByMemberIds(em: EntityManager, memberIds: readonly string[]): Promise<Array<WalletAccountRow | null>> {
  const rows = await em.getRepository(WalletAccountEntity).findBy({ memberId: In([...memberIds]) });
  const byId = new Map(rows.map((r) => [r.memberId, r]));
  return memberIds.map((id) => byId.get(id) ?? null);
}
