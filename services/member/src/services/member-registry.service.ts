import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { badInput, conflict, isDuplicateKey, newId, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import { MemberEntity, type MemberRow } from '../entities/member.entity';
import { TierEntity } from '../entities/tier.entity';
import { normalizePhone } from '../domain/phone';
import { entryTier } from '../domain/tiers';
import type { PiiVault } from './pii.service';
import { audit } from './audit.service';

export interface RegisterMemberInput {
  phone: string;
  name: string;
  channel: string;
}

/** Registers a member: one per phone number, announced as `member.registered`. */
export async function registerMember(
  kit: ServiceKit,
  vault: PiiVault,
  em: EntityManager,
  actor: string,
  input: RegisterMemberInput,
): Promise<MemberRow> {
  const phone = normalizePhone(input.phone);
  if (!phone) throw badInput('phone is not a valid phone number', { field: 'phone' });
  const name = input.name.trim();
  if (name.length < 1 || name.length > 64) throw badInput('name must be 1 to 64 characters', { field: 'name' });

  const members = em.getRepository(MemberEntity);
  if (await members.existsBy({ phoneIndex: vault.phoneIndex(phone) })) {
    throw conflict('A member with this phone number already exists; log in instead', { field: 'phone' });
  }
  const tier = entryTier(await em.getRepository(TierEntity).find());
  const id = newId();
  const row: MemberRow = {
    id,
    ...vault.seal(id, { phone, name }),
    channel: input.channel,
    status: 'ACTIVE',
    tierCode: tier.code,
    registeredAt: new Date(),
    registeredBy: actor,
  };
  try {
    await members.insert(row);
  } catch (err) {
    // Two registrations of one phone raced past the check: the unique blind index decides.
    if (isDuplicateKey(err)) throw conflict('A member with this phone number already exists; log in instead', { field: 'phone' });
    throw err;
  }
  await audit(em, actor, 'member.register', id, { channel: input.channel });
  await kit.publish(
    em,
    EventType.MemberRegistered,
    id,
    checkedData(EventType.MemberRegistered, { memberId: id, channel: row.channel as 'STORE', tier: tier.code, registeredAt: row.registeredAt.toISOString() }),
  );
  return row;
}

/** Members by id, in the order asked (missing ones as null): the batch function of the member loader. */
export async function membersByIds(em: EntityManager, ids: readonly string[]): Promise<Array<MemberRow | null>> {
  const rows = await em.getRepository(MemberEntity).findBy({ id: In([...ids]) });
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}
