import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, Bus, callRequest, createLogger, Role } from '@membergraph/platform';
import { MemberRpc, type BirthMonthReply, type VerifyOtpReply } from '@membergraph/contracts';
import { gql, natsUrl, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp, { env: { JOB_CHECK_INTERVAL_MS: '0' } });
let admin: string;
let bus: Bus;
let seq = 0;

async function ok(query: string, variables: Record<string, unknown>, token = admin) {
  const res = await gql(svc.url, query, variables, token);
  expect(res.errors).toBeUndefined();
  return res.data;
}

async function newMember(extra: Record<string, unknown> = {}): Promise<{ id: string; phone: string }> {
  const phone = `+861360000${String(++seq).padStart(4, '0')}`;
  const data = await ok(`mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id } }`, { input: { phone, name: 'Rpc', channel: 'STORE', ...extra } });
  return { id: data.registerMember.id, phone };
}

const setStatus = (memberId: string, status: string) =>
  ok(`mutation($input: ChangeMemberStatusInput!) { changeMemberStatus(input: $input) { id } }`, { input: { memberId, status, reason: 'risk review' } });

/** A PAYMENT code for the member, requested with their own token and read back from the local provider. */
async function paymentCode(member: { id: string; phone: string }): Promise<string> {
  const self = await tokenFor([Role.MEMBER], { kind: 'member', sub: member.id });
  await ok(`mutation($input: RequestOtpInput!) { requestOtp(input: $input) { expiresAt } }`, { input: { phone: member.phone, purpose: 'PAYMENT' } }, self);
  const sent = await ok(`query($to: String!) { sentMessages(to: $to) { body } }`, { to: member.phone });
  const code = /\b(\d{6})\b/.exec(sent.sentMessages[0].body)?.[1];
  expect(code).toBeDefined();
  return code!;
}

const birthMonth = (req: unknown) => callRequest<unknown, BirthMonthReply>(bus, MemberRpc.BirthMonth, req);
const verifyOtp = (req: unknown) => callRequest<unknown, VerifyOtpReply>(bus, MemberRpc.VerifyOtp, req);

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
  // Plays the wallet: a separate connection under the test's prefix.
  bus = await Bus.connect({ url: natsUrl(), prefix: svc.scope.prefix, name: 'wallet-probe', log: createLogger('t', 'silent') });
});

afterAll(async () => {
  await bus?.close();
});

describe('rpc.member.birth_month', () => {
  it("answers the month of the member's birthday, following profile changes", async () => {
    const member = await newMember({ birthday: '1990-06-15' });
    expect(await birthMonth({ memberId: member.id })).toEqual({ month: 6 });
    await ok(`mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id } }`, { input: { memberId: member.id, birthday: '1990-12-01' } });
    expect(await birthMonth({ memberId: member.id })).toEqual({ month: 12 });
  });

  it('answers null without a birthday, for an erased member and for an unknown id alike', async () => {
    const without = await newMember();
    expect(await birthMonth({ memberId: without.id })).toEqual({ month: null });
    const erased = await newMember({ birthday: '1991-02-28' });
    expect(await birthMonth({ memberId: erased.id })).toEqual({ month: 2 });
    await ok(`mutation($input: EraseMemberInput!) { eraseMember(input: $input) { id } }`, { input: { memberId: erased.id, reason: 'erasure request' } });
    expect(await birthMonth({ memberId: erased.id })).toEqual({ month: null });
    expect(await birthMonth({ memberId: '01NOSUCHMEMBER000000000000' })).toEqual({ month: null });
  });

  it('refuses a malformed request with BAD_USER_INPUT', async () => {
    const err = await birthMonth({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'memberId' });
  });
});

describe('rpc.member.verify_otp for members who may not spend', () => {
  it('answers MEMBER_NOT_ACTIVE for the PAYMENT code of a FROZEN or BLACKLISTED member, without using the code up', async () => {
    const frozen = await newMember();
    const blacklisted = await newMember();
    // Codes issued while they were still ACTIVE, then staff stepped in.
    const frozenCode = await paymentCode(frozen);
    const blacklistedCode = await paymentCode(blacklisted);
    await setStatus(frozen.id, 'FROZEN');
    await setStatus(blacklisted.id, 'BLACKLISTED');

    expect(await verifyOtp({ memberId: frozen.id, purpose: 'PAYMENT', code: frozenCode })).toEqual({ ok: false, reason: 'MEMBER_NOT_ACTIVE' });
    expect(await verifyOtp({ phone: frozen.phone, purpose: 'PAYMENT', code: frozenCode })).toEqual({ ok: false, reason: 'MEMBER_NOT_ACTIVE' });
    expect(await verifyOtp({ memberId: blacklisted.id, purpose: 'PAYMENT', code: blacklistedCode })).toEqual({ ok: false, reason: 'MEMBER_NOT_ACTIVE' });

    // Refusing spent no try: unfrozen, the same code verifies (once).
    await setStatus(frozen.id, 'ACTIVE');
    expect(await verifyOtp({ memberId: frozen.id, purpose: 'PAYMENT', code: frozenCode })).toEqual({ ok: true, reason: null });
  });
});
