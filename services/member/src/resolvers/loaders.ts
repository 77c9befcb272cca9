import DataLoader from 'dataloader';
import { In } from 'typeorm';
import type { ServiceKit } from '@membergraph/platform';
import type { MemberConfig } from '../config';
import type { MemberRow } from '../entities/member.entity';
import { OrderEntity, type OrderRow } from '../entities/order.entity';
import type { Standing } from '../domain/tiers';
import { standings } from '../services/tier.service';
import { membersByIds } from '../services/member-registry.service';
import type { MemberPii, PiiVault } from '../services/pii.service';
import { piiReadAuditor } from '../services/privacy.service';
import { tagsOf } from '../services/tag.service';
import type { MemberTagRow } from '../entities/member-tag.entity';
import type { MemberIdentityRow } from '../entities/member-identity.entity';
import { identitiesOf } from '../services/identity.service';

export interface MemberLoaders {
  member: DataLoader<string, MemberRow | null>;
  order: DataLoader<string, OrderRow | null>;
  /** Rolling-window spend and growth as of the request. */
  standing: DataLoader<string, Standing>;
  pii: (row: MemberRow) => MemberPii;
  tags: DataLoader<string, MemberTagRow[]>;
  /** Bound social identities per member, oldest first. */
  identities: DataLoader<string, MemberIdentityRow[]>;
  /** Audits a staff read of a member's PII in clear, once per request, reader and member (batched). */
  piiRead: (actor: string, memberId: string, requestId: string) => Promise<true>;
}

/** Per-request loaders: batch `_entities` lookups and decrypt each member's PII at most once. */
export function memberLoaders(kit: ServiceKit<MemberConfig>, vault: PiiVault): MemberLoaders {
  const em = kit.ds.manager;
  const opened = new Map<string, MemberPii>();
  return {
    member: new DataLoader((ids) => membersByIds(em, ids)),
    order: new DataLoader(async (ids) => {
      const rows = await em.getRepository(OrderEntity).findBy({ id: In([...ids]) });
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    standing: new DataLoader(async (ids) => {
      const byId = await standings(kit, em, ids, new Date());
      return ids.map((id) => byId.get(id)!);
    }),
    piiRead: piiReadAuditor(kit.ds),
    tags: new DataLoader(async (ids) => {
      const byId = await tagsOf(em, ids);
      return ids.map((id) => byId.get(id) ?? []);
    }),
    identities: new DataLoader(async (ids) => {
      const byId = await identitiesOf(em, ids);
      return ids.map((id) => byId.get(id) ?? []);
    }),
    pii(row) {
      let pii = opened.get(row.id);
      if (!pii) opened.set(row.id, (pii = vault.open(row)));
      return pii;
    },
  };
}

