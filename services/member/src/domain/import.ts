/**
 * Import rules (importMembers): data in, data out. Every row is checked on its own, so one bad
 * row is rejected with its reason and never fails the batch.
 */
import { normalizePhone } from './phone';
import { GENDERS, normalizeBirthday, normalizeEmail } from './profile';
import { REFERRAL_CODE_RULE, normalizeReferralCode } from './referral';

/** A row as the caller sent it: strings only, so a bad value is this row's rejection, not a GraphQL error for the batch. */
export interface ImportRowInput {
  phone: string;
  name: string;
  email?: string | null;
  birthday?: string | null;
  gender?: string | null;
  channel?: string | null;
  updatedAt?: string | null;
  referralCode?: string | null;
}

/** A row checked and normalised; optional fields are null when empty. */
export interface ValidImportRow {
  phone: string;
  name: string;
  email: string | null;
  birthday: string | null;
  gender: string | null;
  channel: string;
  /** When the source last changed this record; null when it does not say. */
  updatedAt: Date | null;
  /** The inviter's referral code; only a row that creates a member uses it (it belongs to the registration). */
  referralCode: string | null;
}

export interface RowProblem {
  field: string;
  reason: string;
}

/** Channels a member may have registered through (the GraphQL `Channel` enum). */
export const CHANNELS = new Set(['STORE', 'WEB', 'APP', 'MINI_PROGRAM', 'SOCIAL', 'EVENT', 'IMPORT']);

/** How far in the future an `updatedAt` may lie (clock skew between systems); later would beat every real edit. */
const MAX_FUTURE_MS = 5 * 60 * 1000;

const blank = (v: string | null | undefined): v is null | undefined => v === null || v === undefined || v.trim() === '';

/** Normalises a row, or names the first field at fault. Empty optional cells count as absent. */
export function validateImportRow(row: ImportRowInput, now: Date): ValidImportRow | RowProblem {
  const phone = blank(row.phone) ? null : normalizePhone(row.phone);
  if (!phone) return { field: 'phone', reason: 'phone is not a valid phone number' };
  const name = (row.name ?? '').trim();
  if (name.length < 1 || name.length > 64) return { field: 'name', reason: 'name must be 1 to 64 characters' };
  let email: string | null = null;
  if (!blank(row.email)) {
    email = normalizeEmail(row.email);
    if (!email) return { field: 'email', reason: 'email is not a valid email address' };
  }
  let birthday: string | null = null;
  if (!blank(row.birthday)) {
    birthday = normalizeBirthday(row.birthday, now);
    if (!birthday) return { field: 'birthday', reason: 'birthday must be a past date as YYYY-MM-DD' };
  }
  let gender: string | null = null;
  if (!blank(row.gender)) {
    gender = row.gender.trim().toUpperCase();
    if (!GENDERS.has(gender)) return { field: 'gender', reason: 'gender must be FEMALE, MALE, OTHER or UNDISCLOSED' };
  }
  const channel = blank(row.channel) ? 'IMPORT' : row.channel.trim().toUpperCase();
  if (!CHANNELS.has(channel)) return { field: 'channel', reason: `channel must be one of ${[...CHANNELS].join(', ')}` };
  let updatedAt: Date | null = null;
  if (!blank(row.updatedAt)) {
    const text = row.updatedAt.trim();
    // ISO-8601 date or date-time only: Date.parse alone accepts too much ("1", "March 7").
    const t = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : NaN;
    if (Number.isNaN(t)) return { field: 'updatedAt', reason: 'updatedAt must be an ISO-8601 date or time' };
    if (t > now.getTime() + MAX_FUTURE_MS) return { field: 'updatedAt', reason: 'updatedAt must not be in the future' };
    updatedAt = new Date(t);
  }
  let referralCode: string | null = null;
  if (!blank(row.referralCode)) {
    referralCode = normalizeReferralCode(row.referralCode);
    if (!referralCode) return { field: 'referralCode', reason: REFERRAL_CODE_RULE };
  }
  return { phone, name, email, birthday, gender, channel, updatedAt, referralCode };
}

export const isRowProblem = (v: ValidImportRow | RowProblem): v is RowProblem => 'reason' in v;

/** The profile fields an import may set (the phone is the identity; channel and status are not profile). */
export const IMPORT_FIELDS = ['name', 'email', 'birthday', 'gender'] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];
export type ImportProfile = { name: string } & Record<Exclude<ImportField, 'name'>, string | null>;

/**
 * What merging `row` into a member changes. A field the member lacks is filled; a field the member
 * has is replaced only when the row is provably newer than the profile we hold (`row.updatedAt`
 * after `profileAsOf`: the last profile update, or the registration). A row without `updatedAt`
 * therefore only fills gaps; nothing is ever cleared.
 */
export function mergePatch(current: ImportProfile, profileAsOf: Date, row: ValidImportRow): Partial<ImportProfile> {
  const newer = row.updatedAt !== null && row.updatedAt.getTime() > profileAsOf.getTime();
  const patch: Partial<ImportProfile> = {};
  for (const field of IMPORT_FIELDS) {
    const value = row[field];
    if (value === null || value === current[field]) continue;
    if (current[field] === null || newer) Object.assign(patch, { [field]: value });
  }
  return patch;
}

/** The profile's as-of time after a merge: the row's `updatedAt` when that is later. */
export function profileAsOfAfter(profileAsOf: Date, row: ValidImportRow): Date {
  return row.updatedAt && row.updatedAt.getTime() > profileAsOf.getTime() ? row.updatedAt : profileAsOf;
}
