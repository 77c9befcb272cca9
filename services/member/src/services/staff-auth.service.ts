import type { EntityManager } from 'typeorm';
import { hashSecret, newId, signToken, unauthenticated, verifySecret, Role, type ServiceKit } from '@membergraph/platform';
import { StaffUserEntity } from '../entities/staff-user.entity';
import type { MemberConfig } from '../config';

// Verifying against a real hash when the user is unknown keeps both paths equally slow.
const DUMMY_HASH = hashSecret('not-a-password');

/** Checks a staff user's password and issues a staff token carrying their roles. */
export async function staffLogin(kit: ServiceKit<MemberConfig>, em: EntityManager, input: { username: string; password: string }) {
  const user = await em.getRepository(StaffUserEntity).findOneBy({ username: input.username.trim() });
  const ok = await verifySecret(input.password, user?.passwordHash ?? (await DUMMY_HASH));
  if (!user || !ok || user.status !== 'ACTIVE') throw unauthenticated('Invalid username or password');
  return signToken(
    kit.tokens,
    { sub: user.id, kind: 'staff', roles: user.roles.split(',') as Role[], scopes: [], name: user.username },
    kit.config.STAFF_TOKEN_TTL_SECONDS,
  );
}

/** Creates the bootstrap ADMIN from config on first start; an existing user is left as it is. */
export async function ensureBootstrapAdmin(kit: ServiceKit<MemberConfig>, em: EntityManager): Promise<boolean> {
  const repo = em.getRepository(StaffUserEntity);
  if (await repo.existsBy({ username: kit.config.ADMIN_USERNAME })) return false;
  await repo
    .createQueryBuilder()
    .insert()
    .values({
      id: newId(),
      username: kit.config.ADMIN_USERNAME,
      passwordHash: await hashSecret(kit.config.ADMIN_PASSWORD),
      roles: Role.ADMIN,
      status: 'ACTIVE',
      createdAt: new Date(),
    })
    .orIgnore()
    .execute();
  return true;
}
