/**
 * The OTP registration and login flow end to end through the gateway, with all five subgraphs
 * in-process on real MySQL and NATS: an anonymous caller asks for a code, the dev console (ADMIN)
 * reads it from the local message provider, the person registers themself, logs in with a LOGIN
 * code and reads `me` across subgraphs.
 */
import { describe, expect, it } from 'vitest';
import { eventually, gql } from '@membergraph/testkit';
import { platformUnderTest } from './support/platform';

const PHONE = '+8613800000777';

const platform = platformUnderTest();

/** Asks for a code as an anonymous caller and reads it back as ADMIN from the local provider. */
async function codeFor(purpose: 'REGISTER' | 'LOGIN'): Promise<string> {
  const req = await gql(platform.url, `mutation($p: String!) { requestOtp(input: {phone: $p, purpose: ${purpose}}) { expiresAt retryAfter } }`, { p: PHONE });
  expect(req.errors).toBeUndefined();
  const sent = await gql(platform.url, `query($to: String!) { sentMessages(to: $to) { channel to body sentAt } }`, { to: PHONE }, platform.admin);
  expect(sent.errors).toBeUndefined();
  const newest = sent.data.sentMessages[0];
  expect(newest).toMatchObject({ channel: 'SMS', to: PHONE, body: expect.stringContaining(purpose.toLowerCase()) });
  return /\b(\d{6})\b/.exec(newest.body)![1]!;
}

describe('a person registering themself with an SMS code', () => {
  it('registers with a REGISTER code, logs in with a LOGIN code and reads me with points from the points subgraph', async () => {
    const anonymousRead = await gql(platform.url, `query($to: String!) { sentMessages(to: $to) { body } }`, { to: PHONE });
    expect(anonymousRead.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const registerCode = await codeFor('REGISTER');
    const reg = await gql(
      platform.url,
      `mutation($p: String!, $otp: String!) { registerMember(input: {phone: $p, name: "Mei", channel: APP, otp: $otp, email: "mei@example.com", birthday: "1995-08-01"}) { id channel } }`,
      { p: PHONE, otp: registerCode },
    );
    expect(reg.errors).toBeUndefined();
    const id: string = reg.data.registerMember.id;

    const again = await gql(platform.url, `mutation($p: String!) { registerMember(input: {phone: $p, name: "Mei", channel: APP, otp: "000000"}) { id } }`, { p: PHONE });
    expect(again.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const loginCode = await codeFor('LOGIN');
    const login = await gql(platform.url, `mutation($p: String!, $otp: String!) { memberLogin(input: {phone: $p, otp: $otp}) { token expiresAt } }`, { p: PHONE, otp: loginCode });
    expect(login.errors).toBeUndefined();
    const token: string = login.data.memberLogin.token;

    await eventually(async () => {
      const me = await gql(platform.url, `{ me { id phone name email birthday channel tier { code } points { balance } } }`, undefined, token);
      expect(me.errors).toBeUndefined();
      expect(me.data.me).toEqual({
        id,
        phone: PHONE,
        name: 'Mei',
        email: 'mei@example.com',
        birthday: '1995-08-01',
        channel: 'APP',
        tier: { code: 'MEMBER' },
        // 100 welcome + 50 for a complete profile (name, email and birthday given at registration).
        points: { balance: 150 },
      });
    });

    const reused = await gql(platform.url, `mutation($p: String!, $otp: String!) { memberLogin(input: {phone: $p, otp: $otp}) { token } }`, { p: PHONE, otp: loginCode });
    expect(reused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
