import { LessThan, type EntityManager } from 'typeorm';
import {
  audit,
  badField,
  conflict,
  hashSecret,
  isDuplicateKey,
  newId,
  signToken,
  unauthenticated,
  verifySecret,
  Role,
  type RequestContext,
  type ServiceKit,
} from '@membergraph/platform';
import { StaffUserEntity, type StaffUserRow } from '../entities/staff-user.entity';
import { ThrottleEventEntity } from '../entities/throttle.entity';
import type { MemberConfig } from '../config';
import { checkPassword, checkStaffRoles, checkUsername, type Problem } from '../domain/credentials';
import { throttle } from '../domain/throttle';
import type { MemberDeps } from './deps';
import { lockThrottleKey, rateLimited } from './throttle.service';

// Verifying against a real hash when the user is unknown keeps both paths equally slow.
const DUMMY_HASH = hashSecret('not-a-password');

const fail = (p: Problem) => {
  if (p) throw badField(p.field, p.message);
};

/**
 * Checks a staff user's password and issues a staff token carrying their roles. Throttled per
 * username + IP: each attempt is counted (committed) before the password is checked, so parallel
 * attempts cannot outrun the limit, and a success clears the count.
 */
export async function staffLogin(deps: MemberDeps, ctx: RequestContext, input: { username: string; password: string }) {
  const { kit, vault } = deps;
  const username = input.username.trim();
  const key = vault.keyIndex('staff-login', `${username.toLowerCase()}|${ctx.clientIp ?? ''}`);
  const windowMs = kit.config.STAFF_LOGIN_WINDOW_SECONDS * 1000;
  await kit.uow(async (em) => {
    await lockThrottleKey(em, key);
    const now = new Date(); // read under the lock, so a waiter sees earlier attempts as past
    const events = em.getRepository(ThrottleEventEntity);
    await events.delete({ key, at: LessThan(new Date(now.getTime() - windowMs)) });
    const past = (await events.find({ select: { at: true }, where: { key } })).map((e) => e.at);
    const decision = throttle(past, [{ limit: kit.config.STAFF_LOGIN_MAX_FAILURES, windowMs }], now);
    if (!decision.allowed) throw rateLimited('Too many failed logins; try again later', decision.retryAfterMs);
    await events.insert({ id: newId(), key, at: now });
  });

  const user = await kit.ds.getRepository(StaffUserEntity).findOneBy({ username });
  const ok = await verifySecret(input.password, user?.passwordHash ?? (await DUMMY_HASH));
  if (!user || !ok || user.status !== 'ACTIVE') throw unauthenticated('Invalid username or password');
  await kit.ds.getRepository(ThrottleEventEntity).delete({ key });
  return signToken(
    kit.tokens,
    { sub: user.id, kind: 'staff', roles: user.roles.split(',') as Role[], scopes: [], name: user.username },
    kit.config.STAFF_TOKEN_TTL_SECONDS,
  );
}

/** Creates a back-office user (ADMIN, checked by the resolver); audited in the same transaction. */
export async function createStaffUser(
  kit: ServiceKit<MemberConfig>,
  em: EntityManager,
  actor: string,
  input: { username: string; password: string; roles: readonly string[] },
): Promise<StaffUserRow> {
  const username = input.username.trim();
  fail(checkUsername(username));
  fail(checkPassword(input.password));
  fail(checkStaffRoles(input.roles));
  const row: StaffUserRow = {
    id: newId(),
    username,
    passwordHash: await hashSecret(input.password),
    roles: [...new Set(input.roles)].join(','),
    status: 'ACTIVE',
    createdAt: new Date(),
  };
  try {
    await em.getRepository(StaffUserEntity).insert(row);
  } catch (err) {
    if (isDuplicateKey(err)) throw conflict('A staff user with this username already exists', { field: 'username' });
    throw err;
  }
  await audit(em, actor, 'staff.create', row.id, { username, roles: row.roles });
  return row;
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
