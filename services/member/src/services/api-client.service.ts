import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { audit, badField, hashSecret, newId, signToken, unauthenticated, verifySecret, Role, type ServiceKit } from '@membergraph/platform';
import { ApiClientEntity, type ApiClientRow } from '../entities/api-client.entity';
import type { MemberConfig } from '../config';
import { checkClientName, checkScopes } from '../domain/credentials';

const DUMMY_HASH = hashSecret('not-a-client-secret');

/** Creates an API client; the secret (256 random bits) is returned once and only its hash is kept. */
export async function createApiClient(em: EntityManager, actor: string, input: { name: string; scopes: readonly string[] }) {
  const name = input.name.trim();
  for (const problem of [checkClientName(name), checkScopes(input.scopes)]) {
    if (problem) throw badField(problem.field, problem.message);
  }
  const secret = randomBytes(32).toString('base64url');
  const scopes = [...new Set(input.scopes)];
  const row: ApiClientRow = {
    id: newId(),
    name,
    secretHash: await hashSecret(secret),
    scopes: scopes.join(','),
    status: 'ACTIVE',
    createdAt: new Date(),
    createdBy: actor,
  };
  await em.getRepository(ApiClientEntity).insert(row);
  await audit(em, actor, 'api_client.create', row.id, { name, scopes });
  return { clientId: row.id, secret, name, scopes };
}

/** Exchanges client credentials for a client token (role INTEGRATION with the client's scopes). */
export async function clientToken(kit: ServiceKit<MemberConfig>, input: { clientId: string; secret: string }) {
  const client = input.clientId.length <= 26 ? await kit.ds.getRepository(ApiClientEntity).findOneBy({ id: input.clientId }) : null;
  const ok = await verifySecret(input.secret, client?.secretHash ?? (await DUMMY_HASH));
  if (!client || !ok || client.status !== 'ACTIVE') throw unauthenticated('Invalid client id or secret');
  return signToken(
    kit.tokens,
    { sub: client.id, kind: 'client', roles: [Role.INTEGRATION], scopes: client.scopes.split(',').filter(Boolean), name: client.name },
    kit.config.CLIENT_TOKEN_TTL_SECONDS,
  );
}
