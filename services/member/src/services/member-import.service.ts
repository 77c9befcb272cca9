import type { EntityManager } from 'typeorm';
import { AuditEntryEntity, enqueueEvents, insertMany, newId, type AuditEntryRow, type NewEvent } from '@membergraph/platform';
import { MemberEntity, type MemberRow } from '../entities/member.entity';
import { isProfileComplete } from '../domain/profile';
import {
  IMPORT_FIELDS,
  isRowProblem,
  mergePatch,
  profileAsOfAfter,
  validateImportRow,
  type ImportField,
  type ImportProfile,
  type ImportRowInput,
} from '../domain/import';
import { newMemberEvents, newMemberRow, profileCompletedEvent, type RegistryDeps } from './member-registry.service';

/** Rows one importMembers call takes at most. */
export const MAX_IMPORT_ROWS = 1000;

export type ImportRowStatus = 'CREATED' | 'MERGED' | 'REJECTED';

export interface ImportRowResult {
  /** Position of the row in the input, from 0. */
  row: number;
  status: ImportRowStatus;
  reason: string | null;
  field: string | null;
  memberId: string | null;
}

export interface ImportOutcome {
  created: number;
  merged: number;
  rejected: number;
  results: ImportRowResult[];
}

/** A member the batch writes to: found in the database or created by an earlier row of the batch. */
interface Target {
  id: string;
  existing: MemberRow | null;
  /** E.164. */
  phone: string;
  channel: string;
  profile: ImportProfile;
  /** As of when `profile` is current (the newer-data rule compares rows against it). */
  asOf: Date;
  /** Whether `asOf` moved (recorded as profile_updated_at). */
  asOfChanged: boolean;
  /** Fields changed on an existing member (audited by name). */
  changed: Set<ImportField>;
  /** A new member's referral code (from the row that created it). */
  referralCode: string | null;
}

/**
 * Imports a batch of rows in the caller's unit of work: every row is validated, rows are
 * de-duplicated on phone (within the batch and against existing members) and merged (domain/import.ts
 * `mergePatch`: fill what is missing, replace only with provably newer data). Existing members are
 * found with ONE blind-index query (phone or email) and locked; new members go in with one
 * multi-row INSERT, their audit rows and events with one INSERT each. A rejected row writes nothing.
 * New members are announced as `member.registered` with channel IMPORT (the row's channel, default
 * IMPORT, is kept on the member: where the person originally signed up).
 */
export async function importMembers(
  deps: RegistryDeps,
  em: EntityManager,
  actor: string,
  rows: readonly ImportRowInput[],
  now = new Date(),
): Promise<ImportOutcome> {
  const { vault } = deps;
  const checked = rows.map((r) => validateImportRow(r, now));
  // Each row's blind indexes, computed once.
  const indexes = checked.map((row) => (isRowProblem(row) ? null : { phone: vault.phoneIndex(row.phone), email: row.email ? vault.emailIndex(row.email) : null }));
  const phoneIndexes = new Set<string>();
  const emailIndexes = new Set<string>();
  for (const index of indexes) {
    if (!index) continue;
    phoneIndexes.add(index.phone);
    if (index.email) emailIndexes.add(index.email);
  }

  const found = phoneIndexes.size
    ? await em
        .getRepository(MemberEntity)
        .createQueryBuilder('m')
        .where('m.phoneIndex IN (:...phones)', { phones: [...phoneIndexes] })
        .orWhere(emailIndexes.size ? 'm.emailIndex IN (:...emails)' : '1 = 0', { emails: [...emailIndexes] })
        .setLock('pessimistic_write')
        .getMany()
    : [];
  const targets = new Map<string, Target>();
  /** Email blind index -> the member holding it, kept current as the batch moves addresses. */
  const emailOwner = new Map<string, string>();
  for (const m of found) {
    if (m.emailIndex) emailOwner.set(m.emailIndex, m.id);
    if (!m.phoneIndex || !phoneIndexes.has(m.phoneIndex)) continue;
    const pii = vault.open(m);
    targets.set(m.phoneIndex, {
      id: m.id,
      existing: m,
      phone: pii.phone,
      channel: m.channel,
      profile: { name: pii.name, email: pii.email ?? null, birthday: pii.birthday ?? null, gender: pii.gender ?? null },
      asOf: m.profileUpdatedAt ?? m.registeredAt,
      asOfChanged: false,
      changed: new Set(),
      referralCode: null,
    });
  }

  const results: ImportRowResult[] = [];
  const reject = (row: number, field: string, reason: string) => results.push({ row, status: 'REJECTED', reason, field, memberId: null });
  checked.forEach((row, index) => {
    if (isRowProblem(row)) return reject(index, row.field, row.reason);
    const { phone: phoneIndex, email: emailIndex } = indexes[index]!;
    const target = targets.get(phoneIndex);
    if (!target) {
      const owner = emailIndex ? emailOwner.get(emailIndex) : undefined;
      if (owner) return reject(index, 'email', 'another member uses this email address');
      const id = newId();
      if (emailIndex) emailOwner.set(emailIndex, id);
      const { name, email, birthday, gender } = row;
      // A new member's profile is as of the row's updatedAt (else now): later rows of the batch merge against it.
      targets.set(phoneIndex, {
        id,
        existing: null,
        phone: row.phone,
        channel: row.channel,
        profile: { name, email, birthday, gender },
        asOf: row.updatedAt ?? now,
        asOfChanged: false,
        changed: new Set(),
        referralCode: row.referralCode,
      });
      return results.push({ row: index, status: 'CREATED', reason: null, field: null, memberId: id });
    }
    const patch = mergePatch(target.profile, target.asOf, row);
    if (patch.email && emailIndex) {
      const owner = emailOwner.get(emailIndex);
      if (owner && owner !== target.id) return reject(index, 'email', 'another member uses this email address');
      if (target.profile.email) emailOwner.delete(vault.emailIndex(target.profile.email));
      emailOwner.set(emailIndex, target.id);
    }
    Object.assign(target.profile, patch);
    for (const field of Object.keys(patch) as ImportField[]) target.changed.add(field);
    const asOf = profileAsOfAfter(target.asOf, row);
    if (asOf !== target.asOf) [target.asOf, target.asOfChanged] = [asOf, true];
    results.push({ row: index, status: 'MERGED', reason: null, field: null, memberId: target.id });
  });

  await write(deps, em, actor, [...targets.values()], now);
  const count = (s: ImportRowStatus) => results.filter((r) => r.status === s).length;
  return { created: count('CREATED'), merged: count('MERGED'), rejected: count('REJECTED'), results };
}

async function write(deps: RegistryDeps, em: EntityManager, actor: string, targets: Target[], now: Date): Promise<void> {
  const { kit, vault } = deps;
  const members = em.getRepository(MemberEntity);
  const audits: AuditEntryRow[] = [];
  const events: Array<NewEvent<unknown>> = [];

  const created = targets.filter((t) => !t.existing);
  if (created.length) {
    const tier = await deps.ladder.entry();
    const rows: MemberRow[] = created.map((t) =>
      newMemberRow(vault, {
        id: t.id,
        pii: { phone: t.phone, ...t.profile },
        channel: t.channel,
        tierCode: tier.code,
        registeredAt: now,
        registeredBy: actor,
        profileUpdatedAt: t.asOf === now ? null : t.asOf,
        referralCode: t.referralCode,
      }),
    );
    await insertMany(em, MemberEntity, rows);
    for (const row of rows) {
      audits.push({ id: newId(), actor, action: 'member.import', target: row.id, detail: JSON.stringify({ created: true, channel: row.channel }), at: now });
      // Announced with channel IMPORT whatever the row gives the member, so consumers can tell bulk loads from live sign-ups.
      events.push(...newMemberEvents(kit.name, row, 'IMPORT'));
    }
  }

  for (const t of targets) {
    const m = t.existing;
    if (!m || (!t.changed.size && !t.asOfChanged)) continue;
    const patch = Object.fromEntries([...t.changed].map((f) => [f, t.profile[f]]));
    const update: Partial<MemberRow> = { ...vault.reseal(m, patch), ...(t.asOfChanged ? { profileUpdatedAt: t.asOf } : {}) };
    // A new address is unproven, as for updateProfile.
    if (t.changed.has('email')) update.emailVerifiedAt = null;
    if (!m.profileCompletedAt && isProfileComplete(t.profile)) {
      update.profileCompletedAt = now;
      events.push(profileCompletedEvent(kit.name, m.id, now));
    }
    await members.update({ id: m.id }, update);
    if (t.changed.size) audits.push({ id: newId(), actor, action: 'member.import', target: m.id, detail: JSON.stringify({ merged: true, fields: IMPORT_FIELDS.filter((f) => t.changed.has(f)) }), at: now });
  }
  await insertMany(em, AuditEntryEntity, audits);
  await enqueueEvents(em, events);
}
