import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isRowProblem, mergePatch, profileAsOfAfter, validateImportRow, type ImportProfile, type ValidImportRow } from '../../src/domain/import';

const now = new Date('2026-06-01T00:00:00Z');
const row = (over: Partial<ValidImportRow>): ValidImportRow => ({ phone: '+8613800000001', name: 'Li Lei', email: null, birthday: null, gender: null, channel: 'IMPORT', updatedAt: null, referralCode: null, ...over });
const profile: ImportProfile = { name: 'Li Lei', email: 'li@example.com', birthday: null, gender: null };
const asOf = new Date('2026-03-01T00:00:00Z');

describe('validateImportRow', () => {
  it('normalises phone, email, gender and channel, and reads empty cells as absent', () => {
    expect(validateImportRow({ phone: '138 0000 0001', name: ' Li Lei ', email: 'LI@Example.com', birthday: '', gender: 'male', channel: 'store', updatedAt: '2026-01-02' }, now)).toEqual({
      phone: '+8613800000001', name: 'Li Lei', email: 'li@example.com', birthday: null, gender: 'MALE', channel: 'STORE', updatedAt: new Date('2026-01-02T00:00:00Z'), referralCode: null,
    });
    expect(validateImportRow({ phone: '13800000001', name: 'X' }, now)).toMatchObject({ channel: 'IMPORT', updatedAt: null });
  });

  it('names the field at fault', () => {
    const field = (r: Parameters<typeof validateImportRow>[0]) => {
      const v = validateImportRow(r, now);
      return isRowProblem(v) ? v.field : null;
    };
    expect(field({ phone: '1', name: 'X' })).toBe('phone');
    expect(field({ phone: '13800000001', name: '' })).toBe('name');
    expect(field({ phone: '13800000001', name: 'X', updatedAt: 'March 7' })).toBe('updatedAt');
    expect(field({ phone: '13800000001', name: 'X', updatedAt: '2026-06-01T01:00:00Z' })).toBe('updatedAt');
    expect(field({ phone: '13800000001', name: 'X', channel: 'POS' })).toBe('channel');
    expect(field({ phone: '13800000001', name: 'X', referralCode: 'a b c d' })).toBe('referralCode');
    expect(field({ phone: '13800000001', name: 'X', referralCode: 'x'.repeat(33) })).toBe('referralCode');
    expect(validateImportRow({ phone: '13800000001', name: 'X', referralCode: ' Inv-42_a ' }, now)).toMatchObject({ referralCode: 'Inv-42_a' });
  });
});

describe('mergePatch', () => {
  it('fills empty fields and keeps set ones when the row does not say it is newer', () => {
    expect(mergePatch(profile, asOf, row({ name: 'Other', email: 'x@example.com', birthday: '1990-01-01' }))).toEqual({ birthday: '1990-01-01' });
    expect(mergePatch(profile, asOf, row({ name: 'Other', updatedAt: new Date('2026-02-01T00:00:00Z') }))).toEqual({});
  });

  it('replaces set fields with a newer row, never clearing what the row leaves empty', () => {
    expect(mergePatch(profile, asOf, row({ name: 'Other', updatedAt: new Date('2026-04-01T00:00:00Z') }))).toEqual({ name: 'Other' });
  });

  it('never clears a field and never overwrites a set field with older data (property)', () => {
    const value = fc.option(fc.constantFrom('a', 'b', 'c'), { nil: null });
    fc.assert(
      fc.property(fc.record({ email: value, birthday: value, gender: value }), fc.record({ email: value, birthday: value, gender: value }), fc.boolean(), (cur, inc, newer) => {
        const current = { name: 'n', ...cur };
        const r = row({ ...inc, updatedAt: newer ? new Date('2026-04-01T00:00:00Z') : new Date('2026-01-01T00:00:00Z') });
        const patch = mergePatch(current, asOf, r);
        for (const [k, v] of Object.entries(patch)) {
          expect(v).not.toBeNull();
          if (!newer) expect(current[k as keyof typeof current]).toBeNull();
        }
      }),
    );
  });

  it('moves the profile as-of time only forward', () => {
    expect(profileAsOfAfter(asOf, row({ updatedAt: new Date('2026-01-01T00:00:00Z') }))).toBe(asOf);
    expect(profileAsOfAfter(asOf, row({ updatedAt: new Date('2026-04-01T00:00:00Z') }))).toEqual(new Date('2026-04-01T00:00:00Z'));
  });
});
