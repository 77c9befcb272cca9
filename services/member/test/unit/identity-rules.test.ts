import { describe, expect, it } from 'vitest';
import { decideBind, isAuthCodeShaped, parseLocalCode } from '../../src/domain/identity';
import { emailTokenCheck, isEmailTokenShaped, verificationLink } from '../../src/domain/email-verification';
import { normalizeReferralCode } from '../../src/domain/referral';
import { maskIdentifier } from '../../src/domain/mask';
import { messageText } from '../../src/messaging/message-provider';

describe('local social auth codes', () => {
  it('reads local:<openId>[:<unionId>] and nothing else', () => {
    expect(parseLocalCode('local:oWx_123')).toEqual({ openId: 'oWx_123', unionId: null });
    expect(parseLocalCode('local:oWx_123:uAbc-9')).toEqual({ openId: 'oWx_123', unionId: 'uAbc-9' });
    expect(parseLocalCode('oWx_123')).toBeNull();
    expect(parseLocalCode('local:')).toBeNull();
    expect(parseLocalCode('local:a:b:c')).toBeNull();
    expect(parseLocalCode('local:has space')).toBeNull();
    expect(parseLocalCode(`local:${'x'.repeat(129)}`)).toBeNull();
  });

  it('takes authorisation codes of 1-512 printable characters', () => {
    expect(isAuthCodeShaped('071aBc+/=')).toBe(true);
    expect(isAuthCodeShaped('')).toBe(false);
    expect(isAuthCodeShaped('a b')).toBe(false);
    expect(isAuthCodeShaped('x'.repeat(513))).toBe(false);
  });
});

describe('binding an identity', () => {
  const me = 'M1';
  it('binds what nobody holds', () => {
    expect(decideBind(me, 'U1', null, [])).toEqual({ kind: 'BIND' });
    expect(decideBind(me, null, null, [{ memberId: me, unionIdIndex: 'U9' }])).toEqual({ kind: 'BIND' });
  });

  it('changes nothing for an account already bound to the member, learning a unionId it lacked', () => {
    expect(decideBind(me, null, { memberId: me, unionIdIndex: null }, [])).toEqual({ kind: 'ALREADY_BOUND', learnUnion: false });
    expect(decideBind(me, 'U1', { memberId: me, unionIdIndex: null }, [{ memberId: me, unionIdIndex: null }])).toEqual({ kind: 'ALREADY_BOUND', learnUnion: true });
    expect(decideBind(me, 'U1', { memberId: me, unionIdIndex: 'U1' }, [{ memberId: me, unionIdIndex: 'U1' }])).toEqual({ kind: 'ALREADY_BOUND', learnUnion: false });
  });

  it('refuses an account, or the same person, bound to another member', () => {
    expect(decideBind(me, null, { memberId: 'M2', unionIdIndex: null }, [])).toMatchObject({ kind: 'CONFLICT', reason: 'IDENTITY_TAKEN' });
    expect(decideBind(me, 'U1', null, [{ memberId: 'M2', unionIdIndex: 'U1' }])).toMatchObject({ kind: 'CONFLICT', reason: 'UNION_TAKEN' });
  });

  it('refuses a second person of the same family on one member', () => {
    expect(decideBind(me, 'U2', null, [{ memberId: me, unionIdIndex: 'U1' }])).toMatchObject({ kind: 'CONFLICT', reason: 'OTHER_ACCOUNT_BOUND' });
  });
});

describe('email verification tokens', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const token = { expiresAt: new Date('2026-06-02T00:00:00Z'), consumedAt: null, emailIndex: 'E1' };

  it('verifies once, before expiry, and only for the address it was sent to', () => {
    expect(emailTokenCheck(token, 'E1', now)).toEqual({ ok: true });
    expect(emailTokenCheck(null, 'E1', now)).toEqual({ ok: false, reason: 'INVALID' });
    expect(emailTokenCheck({ ...token, consumedAt: now }, 'E1', now)).toEqual({ ok: false, reason: 'USED' });
    expect(emailTokenCheck(token, 'E1', token.expiresAt)).toEqual({ ok: false, reason: 'EXPIRED' });
    expect(emailTokenCheck(token, 'E2', now)).toEqual({ ok: false, reason: 'STALE' });
    expect(emailTokenCheck(token, null, now)).toEqual({ ok: false, reason: 'STALE' });
  });

  it('has the shape of 32 random bytes in base64url, carried as the link’s token parameter', () => {
    const t = 'A'.repeat(42) + '_';
    expect(isEmailTokenShaped(t)).toBe(true);
    expect(isEmailTokenShaped(t.slice(1))).toBe(false);
    expect(isEmailTokenShaped(`${t.slice(1)}=`)).toBe(false);
    expect(verificationLink('https://shop.example/verify?lang=zh', t)).toBe(`https://shop.example/verify?lang=zh&token=${t}`);
  });
});

describe('referral codes', () => {
  it('are 4-32 letters, digits, _ or -, kept as typed', () => {
    expect(normalizeReferralCode(' Inv-42_a ')).toBe('Inv-42_a');
    expect(normalizeReferralCode('abc')).toBeNull();
    expect(normalizeReferralCode('x'.repeat(32))).toBe('x'.repeat(32));
    expect(normalizeReferralCode('x'.repeat(33))).toBeNull();
    expect(normalizeReferralCode('邀请码1234')).toBeNull();
    expect(normalizeReferralCode('a b c d')).toBeNull();
  });
});

describe('masking and WeChat template messages', () => {
  it('masks provider ids to their first 4 and last 3 characters', () => {
    expect(maskIdentifier('oWx_1234567890abcdefXYZ')).toBe('oWx_****XYZ');
    expect(maskIdentifier('short123')).toBe('s****');
  });

  it('renders a template message as its template, keyword values and link', () => {
    expect(messageText({ channel: 'WECHAT', to: 'oWx', templateId: 'TPL1', data: { first: 'Hi', keyword1: '100' }, url: 'https://x.example/p' })).toBe(
      '[template TPL1]\nfirst: Hi\nkeyword1: 100\nurl: https://x.example/p',
    );
    expect(messageText({ channel: 'SMS', to: '+8613800000001', body: 'code 123456' })).toBe('code 123456');
  });
});
