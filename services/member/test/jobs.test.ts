import { beforeAll, describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { eventually, gql, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { backfillBirthMonthDay } from '../src/services/birthday.service';
import { vaultOf } from '../src/resolvers';
import { runDueJobs } from '../src/jobs/scheduler';

// The scheduler is driven by hand here (runDueJobs with a fixed clock); a second instance below lets it run by itself.
const svc = serviceUnderTest('member', createApp, { env: { JOB_CHECK_INTERVAL_MS: '0' } });
let admin: string;
let seq = 0;

const BIRTHDAYS = `mutation($asOf: DateTime!) { runBirthdayJob(asOf: $asOf) { asOf businessDate birthdayDate year notified alreadyNotified } }`;
const WARNINGS = `mutation($asOf: DateTime!) { runTierDowngradeWarnings(asOf: $asOf) { asOf businessDate evaluationDate evaluationAt due checked warned alreadyWarned } }`;
const EVALUATE = `mutation($asOf: DateTime!) { runTierEvaluation(asOf: $asOf) { evaluated downgraded protected } }`;

async function ok(query: string, variables: Record<string, unknown>, token = admin) {
  const res = await gql(svc.url, query, variables, token);
  expect(res.errors).toBeUndefined();
  return res.data;
}

async function newMember(extra: Record<string, unknown> = {}): Promise<string> {
  const phone = `1370000${String(++seq).padStart(4, '0')}`;
  const data = await ok(`mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id } }`, { input: { phone, name: 'Jobs', channel: 'STORE', ...extra } });
  return data.registerMember.id;
}

const setBirthday = (memberId: string, birthday: string) =>
  ok(`mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id } }`, { input: { memberId, birthday } });
const erase = (memberId: string) => ok(`mutation($input: EraseMemberInput!) { eraseMember(input: $input) { id } }`, { input: { memberId, reason: 'asked to be forgotten' } });
const order = (memberId: string, amount: number, completedAt: string) =>
  ok(`mutation($input: RecordOrderInput!) { recordOrder(input: $input) { id } }`, {
    input: { source: 'pos', externalId: `J-${++seq}`, memberId, amount, channel: 'STORE', completedAt },
  });
const tierOf = async (id: string) => (await ok(`query($id: ID!) { member(id: $id) { tier { code } } }`, { id })).member.tier.code;

const events = async (type: string, memberId: string) =>
  ((await svc.app.kit.ds.query('SELECT payload FROM outbox WHERE type = ? AND subject = ? ORDER BY seq', [type, memberId])) as Array<{ payload: string }>).map(
    (r) => JSON.parse(r.payload).data,
  );
const birthdayEvents = (memberId: string) => events('member.birthday_upcoming', memberId);
const warningEvents = (memberId: string) => events('member.tier_downgrade_warning', memberId);
const birthMd = async (memberId: string) => (await svc.app.kit.ds.query('SELECT birth_md FROM member WHERE id = ?', [memberId]))[0].birth_md;

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
});

describe('runBirthdayJob', () => {
  it('announces birthdays 7 days after the business day of the tenant time zone, once per member and year', async () => {
    const birthday = await newMember({ birthday: '1990-06-15' });
    const dayAfter = await newMember({ birthday: '1985-06-16' });
    const none = await newMember();
    expect(await birthMd(birthday)).toBe('0615');
    expect(await birthMd(none)).toBeNull();

    // 20:00 UTC on 7 June is 8 June in Shanghai (the default TENANT_TIME_ZONE): 8 + 7 = 15 June.
    const run = (await ok(BIRTHDAYS, { asOf: '2026-06-07T20:00:00Z' })).runBirthdayJob;
    expect(run).toEqual({ asOf: '2026-06-07T20:00:00.000Z', businessDate: '2026-06-08', birthdayDate: '2026-06-15', year: 2026, notified: 1, alreadyNotified: 0 });
    expect(await birthdayEvents(birthday)).toEqual([{ memberId: birthday, year: 2026, businessDate: '2026-06-08', daysAhead: 7 }]);
    expect(await birthdayEvents(dayAfter)).toEqual([]);

    // The same day again, and another instant of it: nobody hears twice.
    const again = (await ok(BIRTHDAYS, { asOf: '2026-06-08T09:00:00Z' })).runBirthdayJob;
    expect(again).toMatchObject({ businessDate: '2026-06-08', notified: 0, alreadyNotified: 1 });
    expect(await birthdayEvents(birthday)).toHaveLength(1);

    // Next year is another birthday.
    expect((await ok(BIRTHDAYS, { asOf: '2027-06-08T04:00:00Z' })).runBirthdayJob).toMatchObject({ year: 2027, notified: 1 });
    expect((await birthdayEvents(birthday)).map((e) => e.year)).toEqual([2026, 2027]);
    const [entry] = await svc.app.kit.ds.query("SELECT actor, target FROM audit_log WHERE action = 'birthday.job_run' ORDER BY id LIMIT 1");
    expect(entry).toEqual({ actor: 'staff-admin', target: '2026-06-08' });
  });

  it('finds birthdays set by a profile update or an import, follows a changed birthday', async () => {
    const updated = await newMember();
    await setBirthday(updated, '1991-07-20');
    const changed = await newMember({ birthday: '1992-07-21' });
    await setBirthday(changed, '1992-07-22');
    expect(await birthMd(changed)).toBe('0722');
    const imported = await ok(`mutation($input: ImportMembersInput!) { importMembers(input: $input) { results { memberId status } } }`, {
      input: { rows: [{ phone: '13700009001', name: 'Imported', birthday: '1993-07-20' }] },
    });
    const importedId = imported.importMembers.results[0].memberId;
    expect(imported.importMembers.results[0].status).toBe('CREATED');

    // 13 July announces 20 July: the updated and the imported members.
    expect((await ok(BIRTHDAYS, { asOf: '2026-07-13T04:00:00Z' })).runBirthdayJob).toMatchObject({ birthdayDate: '2026-07-20', notified: 2 });
    expect(await birthdayEvents(updated)).toHaveLength(1);
    expect(await birthdayEvents(importedId)).toHaveLength(1);
    // 21 July was the old birthday; 22 July the new one.
    expect((await ok(BIRTHDAYS, { asOf: '2026-07-14T04:00:00Z' })).runBirthdayJob).toMatchObject({ notified: 0 });
    expect((await ok(BIRTHDAYS, { asOf: '2026-07-15T04:00:00Z' })).runBirthdayJob).toMatchObject({ notified: 1 });
    expect(await birthdayEvents(changed)).toEqual([{ memberId: changed, year: 2026, businessDate: '2026-07-15', daysAhead: 7 }]);
  });

  it('skips erased members: their month-day and their notices go with the erasure', async () => {
    const announced = await newMember({ birthday: '1994-08-10' });
    const later = await newMember({ birthday: '1994-08-10' });
    expect((await ok(BIRTHDAYS, { asOf: '2026-08-03T04:00:00Z' })).runBirthdayJob).toMatchObject({ notified: 2 });
    await erase(announced);
    await erase(later);
    expect(await birthMd(later)).toBeNull();
    expect(Number((await svc.app.kit.ds.query('SELECT COUNT(*) AS n FROM member_birthday_notice WHERE member_id IN (?)', [[announced, later]]))[0].n)).toBe(0);
    // Next year nobody is announced (and the erased member's notice of this year does not count as "already").
    expect((await ok(BIRTHDAYS, { asOf: '2027-08-03T04:00:00Z' })).runBirthdayJob).toMatchObject({ notified: 0, alreadyNotified: 0 });
    expect((await ok(BIRTHDAYS, { asOf: '2026-08-03T04:00:00Z' })).runBirthdayJob).toMatchObject({ notified: 0, alreadyNotified: 0 });
  });

  it('announces a 29 February birthday on 28 February in years without one, and on the day in leap years', async () => {
    const leapling = await newMember({ birthday: '2000-02-29' });
    expect((await ok(BIRTHDAYS, { asOf: '2027-02-21T04:00:00Z' })).runBirthdayJob).toMatchObject({ birthdayDate: '2027-02-28', notified: 1 });
    expect((await ok(BIRTHDAYS, { asOf: '2028-02-21T04:00:00Z' })).runBirthdayJob).toMatchObject({ birthdayDate: '2028-02-28', notified: 0 });
    expect((await ok(BIRTHDAYS, { asOf: '2028-02-22T04:00:00Z' })).runBirthdayJob).toMatchObject({ birthdayDate: '2028-02-29', notified: 1 });
    expect(await birthdayEvents(leapling)).toEqual([
      { memberId: leapling, year: 2027, businessDate: '2027-02-21', daysAhead: 7 },
      { memberId: leapling, year: 2028, businessDate: '2028-02-22', daysAhead: 7 },
    ]);
  });

  it('fills the month-day of members whose birthday was stored before the column, once', async () => {
    const old = await newMember({ birthday: '1980-11-02' });
    await svc.app.kit.ds.query('UPDATE member SET birth_md = NULL WHERE id = ?', [old]);
    await svc.app.kit.ds.query("DELETE FROM job_run WHERE job = 'birth_md_backfill'");
    expect(await backfillBirthMonthDay(svc.app.kit, vaultOf(svc.app.kit))).toBeGreaterThanOrEqual(1);
    expect(await birthMd(old)).toBe('1102');
    // Done is recorded: the next start does not scan again.
    await svc.app.kit.ds.query('UPDATE member SET birth_md = NULL WHERE id = ?', [old]);
    expect(await backfillBirthMonthDay(svc.app.kit, vaultOf(svc.app.kit))).toBe(0);
    await svc.app.kit.ds.query("UPDATE member SET birth_md = '1102' WHERE id = ?", [old]);
  });

  it('is for ADMIN only, and needs a sensible date', async () => {
    const operator = await tokenFor([Role.OPERATOR], { sub: 'op' });
    const asOf = '2026-06-08T04:00:00Z';
    expect((await gql(svc.url, BIRTHDAYS, { asOf }, operator)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(svc.url, BIRTHDAYS, { asOf })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await gql(svc.url, WARNINGS, { asOf }, operator)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const member = await tokenFor([Role.MEMBER], { kind: 'member', sub: '01ANYMEMBER000000000000000' });
    expect((await gql(svc.url, WARNINGS, { asOf }, member)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const old = await gql(svc.url, BIRTHDAYS, { asOf: '1999-12-31T00:00:00Z' }, admin);
    expect(old.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'asOf' });
  });
});

describe('runTierDowngradeWarnings', () => {
  // Evaluations are quarterly: the one of 1 April 2027 (Shanghai) evaluates as of 31 March 16:00 UTC.
  const EVALUATION_AT = '2027-03-31T16:00:00.000Z';

  it('warns, 30 days ahead, exactly the members the next evaluation would move down, once per evaluation', async () => {
    // Upgraded now (December 2026) on an order that leaves the 12-month window before April 2027.
    const lapsing = await newMember();
    await order(lapsing, 150_000, '2026-03-15T00:00:00Z');
    // Its order still counts in April 2027.
    const qualifies = await newMember();
    await order(qualifies, 150_000, '2026-11-01T00:00:00Z');
    // Lapsing too, but moved up in February 2027: still protected on 1 April.
    const protectedOne = await newMember();
    await order(protectedOne, 150_000, '2026-03-15T00:00:00Z');
    await svc.app.kit.ds.query("UPDATE member SET tier_upgraded_at = '2027-02-15 00:00:00' WHERE id = ?", [protectedOne]);
    // Lapsing, but erased.
    const erased = await newMember();
    await order(erased, 150_000, '2026-03-15T00:00:00Z');
    await erase(erased);
    for (const id of [lapsing, qualifies, protectedOne]) expect(await tierOf(id)).toBe('SILVER');

    const early = (await ok(WARNINGS, { asOf: '2027-02-20T04:00:00Z' })).runTierDowngradeWarnings;
    expect(early).toEqual({
      asOf: '2027-02-20T04:00:00.000Z',
      businessDate: '2027-02-20',
      evaluationDate: '2027-04-01',
      evaluationAt: EVALUATION_AT,
      due: false,
      checked: 0,
      warned: 0,
      alreadyWarned: 0,
    });

    const run = (await ok(WARNINGS, { asOf: '2027-03-10T04:00:00Z' })).runTierDowngradeWarnings;
    expect(run).toMatchObject({ businessDate: '2027-03-10', evaluationDate: '2027-04-01', due: true, checked: 3, warned: 1, alreadyWarned: 0 });
    expect(await warningEvents(lapsing)).toEqual([{ memberId: lapsing, currentTier: 'SILVER', projectedTier: 'MEMBER', evaluationAt: EVALUATION_AT, warnedAt: expect.any(String) }]);
    for (const id of [qualifies, protectedOne, erased]) expect(await warningEvents(id)).toEqual([]);

    // Another day of the window: nobody is warned twice.
    expect((await ok(WARNINGS, { asOf: '2027-03-11T04:00:00Z' })).runTierDowngradeWarnings).toMatchObject({ checked: 2, warned: 0, alreadyWarned: 1 });
    expect(await warningEvents(lapsing)).toHaveLength(1);

    // The evaluation itself agrees with the warnings: same rule, same day.
    expect((await ok(EVALUATE, { asOf: EVALUATION_AT })).runTierEvaluation).toEqual({ evaluated: 3, downgraded: 1, protected: 1 });
    expect([await tierOf(lapsing), await tierOf(qualifies), await tierOf(protectedOne)]).toEqual(['MEMBER', 'SILVER', 'SILVER']);
  });
});

describe('the scheduler', () => {
  it('runs the evaluation on its day, the birthday job for today and missed days, and the warnings, each once', async () => {
    const birthday = await newMember({ birthday: '1988-07-06' });
    // 1 July 2027 09:00 in Shanghai: an evaluation day; with 3 catch-up days the birthday job covers 28 June to 1 July.
    const now = new Date('2027-07-01T01:00:00Z');
    const ran = await runDueJobs(svc.app.kit, now);
    expect(ran).toEqual([
      { job: 'tier_evaluation', day: '2027-07-01', ok: true },
      { job: 'birthday', day: '2027-06-28', ok: true },
      { job: 'birthday', day: '2027-06-29', ok: true },
      { job: 'birthday', day: '2027-06-30', ok: true },
      { job: 'birthday', day: '2027-07-01', ok: true },
      { job: 'tier_downgrade_warning', day: '2027-07-01', ok: true },
    ]);
    // 29 June (a missed day) announced 6 July.
    expect(await birthdayEvents(birthday)).toEqual([{ memberId: birthday, year: 2027, businessDate: '2027-06-29', daysAhead: 7 }]);
    const [evaluation] = await svc.app.kit.ds.query("SELECT actor FROM audit_log WHERE action = 'tier.evaluation_run' AND target = '2027-06-30'");
    expect(evaluation.actor).toBe('system:scheduler');
    // Later checks of the day (this replica or another) find everything done.
    expect(await runDueJobs(svc.app.kit, new Date('2027-07-01T09:00:00Z'))).toEqual([]);
    // The next day runs only the daily jobs.
    expect((await runDueJobs(svc.app.kit, new Date('2027-07-02T01:00:00Z'))).map((r) => r.job)).toEqual(['birthday', 'tier_downgrade_warning']);
  });

  it('keeps going when a job fails and retries it at the next check', async () => {
    await svc.app.kit.ds.query('RENAME TABLE member_birthday_notice TO member_birthday_notice_away');
    let ran;
    try {
      ran = await runDueJobs(svc.app.kit, new Date('2027-08-10T01:00:00Z'));
    } finally {
      await svc.app.kit.ds.query('RENAME TABLE member_birthday_notice_away TO member_birthday_notice');
    }
    expect(ran.filter((r) => r.job === 'birthday').every((r) => !r.ok)).toBe(true);
    expect(ran.find((r) => r.job === 'tier_downgrade_warning')).toEqual({ job: 'tier_downgrade_warning', day: '2027-08-10', ok: true });
    expect((await runDueJobs(svc.app.kit, new Date('2027-08-10T02:00:00Z'))).map((r) => `${r.job} ${r.day} ${r.ok}`)).toEqual([
      'birthday 2027-08-07 true',
      'birthday 2027-08-08 true',
      'birthday 2027-08-09 true',
      'birthday 2027-08-10 true',
    ]);
  });
});

describe('scheduled jobs running by themselves', () => {
  const ticking = serviceUnderTest('member', createApp, { env: { JOB_CHECK_INTERVAL_MS: '200' } });

  it('runs the daily jobs of the current business day without being asked', async () => {
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    await eventually(async () => {
      const rows: Array<{ job: string }> = await ticking.app.kit.ds.query('SELECT job FROM job_run WHERE run_key = ? ORDER BY job', [today]);
      expect(rows.map((r) => r.job)).toEqual(expect.arrayContaining(['birthday', 'tier_downgrade_warning']));
    });
  });
});
