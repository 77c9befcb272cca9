import { describe, expect, it } from 'vitest';
import { completesProfile, isProfileComplete } from '../../src/domain/profile';
import { normalizeTag, tagDiff } from '../../src/domain/tags';
import { consentChanges, consentsProblem, currentConsents } from '../../src/domain/consent';
import { maskAuditDetail } from '../../src/domain/audit-detail';

describe('profile completion', () => {
  it('needs name, email and birthday all present', () => {
    expect(isProfileComplete({ name: 'A', email: 'a@b.cn', birthday: '1990-01-01' })).toBe(true);
    expect(isProfileComplete({ name: 'A', email: 'a@b.cn', birthday: null })).toBe(false);
    expect(isProfileComplete({ name: 'A', email: null, birthday: '1990-01-01' })).toBe(false);
    expect(isProfileComplete({ name: '', email: 'a@b.cn', birthday: '1990-01-01' })).toBe(false);
  });

  it('completes only the first time, so clearing and refilling a field is not a second completion', () => {
    const full = { name: 'A', email: 'a@b.cn', birthday: '1990-01-01' };
    expect(completesProfile(false, full)).toBe(true);
    expect(completesProfile(true, full)).toBe(false);
    expect(completesProfile(false, { ...full, email: null })).toBe(false);
  });
});

describe('tags', () => {
  it('normalises names and refuses what is not a tag', () => {
    expect(normalizeTag(' High_AOV ')).toBe('high_aov');
    expect(normalizeTag('ＶＩＰ')).toBe('vip');
    expect(normalizeTag('会员日')).toBe('会员日');
    expect(normalizeTag('a b')).toBeNull();
    expect(normalizeTag('')).toBeNull();
    expect(tagDiff(['a', 'b'], ['b', 'c'])).toEqual({ add: ['c'], remove: ['a'] });
  });
});

describe('consents', () => {
  it('keeps the newest decision per purpose and channel and finds only real changes', () => {
    const history = [
      { id: '01A', purpose: 'MARKETING', channel: 'SMS', granted: true, policyVersion: 'v1' },
      { id: '01B', purpose: 'MARKETING', channel: 'SMS', granted: false, policyVersion: 'v1' },
      { id: '01C', purpose: 'ANALYTICS', channel: 'PUSH', granted: true, policyVersion: 'v1' },
    ];
    expect(currentConsents(history).map((c) => c.id)).toEqual(['01C', '01B']);
    const current = currentConsents(history);
    expect(
      consentChanges(current, [
        { purpose: 'MARKETING', channel: 'SMS', granted: false, policyVersion: 'v1' },
        { purpose: 'ANALYTICS', channel: 'PUSH', granted: true, policyVersion: 'v2' },
        { purpose: 'MARKETING', channel: 'EMAIL', granted: false, policyVersion: 'v1' },
      ]).map((c) => `${c.purpose}/${c.channel}`),
    ).toEqual(['ANALYTICS/PUSH', 'MARKETING/EMAIL']);
    expect(consentsProblem([{ purpose: 'MARKETING', channel: 'SMS', policyVersion: 'v1' }, { purpose: 'MARKETING', channel: 'SMS', policyVersion: 'v2' }])).toMatchObject({ index: 1 });
  });
});

describe('audit details', () => {
  it('masks personal data at any depth and leaves the rest', () => {
    const detail = JSON.stringify({ from: 'ACTIVE', before: { phone: '+8613800000001', name: 'Li Lei', email: 'li@example.com', birthday: '1990-01-01' } });
    expect(JSON.parse(maskAuditDetail(detail)!)).toEqual({ from: 'ACTIVE', before: { phone: '+86138****0001', name: 'L*****', email: 'l****@example.com', birthday: '****-**-**' } });
    expect(maskAuditDetail(null)).toBeNull();
    expect(maskAuditDetail('not json')).toBe('not json');
  });
});
