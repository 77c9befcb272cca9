import { beforeAll, describe, expect, it } from 'vitest';
import { Bus, Role, STREAMS, createLogger, decodeEnvelope, newId } from '@membergraph/platform';
import { couponIssued } from '@membergraph/contracts';
import { eventually, gql, itHasCompleteMigrations, memberEvents, natsUrl, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { seedWelcomeTemplate } from '../src/services/coupon-template.service';
import { issueCoupon } from '../src/services/coupon.service';
import { CouponTemplateEntity } from '../src/entities/coupon-template.entity';

const svc = serviceUnderTest('marketing', createApp, {
  env: { WELCOME_COUPON_AMOUNT: '1500', WELCOME_COUPON_VALID_DAYS: '14' },
  probe: STREAMS.member,
});
const CONSUMER = 'marketing-member';
let operator: string;

const TEMPLATES = `{ couponTemplates { id code name amount validDays issueOnRegistration createdAt } }`;
const CREATE = `mutation($input: CreateCouponTemplateInput!) { createCouponTemplate(input: $input) { id code name amount validDays issueOnRegistration } }`;
const COUPONS = `query($reps: [_Any!]!, $status: CouponStatus) {
  _entities(representations: $reps) { ... on Member { id coupons(status: $status) { id code status amount issuedAt expiresAt template { code name } } } }
}`;

interface CouponView {
  id: string;
  code: string;
  status: string;
  amount: number;
  issuedAt: string;
  expiresAt: string;
  template: { code: string; name: string };
}

async function couponsOf(memberId: string, token?: string, status?: string) {
  return gql<{ _entities: Array<{ id: string; coupons: CouponView[] }> }>(svc.url, COUPONS, { reps: [{ __typename: 'Member', id: memberId }], status }, token);
}
async function couponList(memberId: string, status?: string): Promise<CouponView[]> {
  const res = await couponsOf(memberId, operator, status);
  expect(res.errors).toBeUndefined();
  return res.data!._entities[0]!.coupons;
}

const registered = (memberId: string) => memberEvents.registered(memberId, { channel: 'APP' });

/** Registers a member on the bus and waits until marketing has handled it. */
async function register(memberId = newId()) {
  await svc.probe.consumed(CONSUMER, await svc.probe.publish(registered(memberId)));
  return memberId;
}

const count = async (sql: string, params: unknown[] = []) => Number((await svc.app.kit.ds.query(sql, params))[0].n);

beforeAll(async () => {
  operator = await tokenFor([Role.OPERATOR]);
});

itHasCompleteMigrations(svc);

describe('the WELCOME template', () => {
  it('is seeded into an empty database', async () => {
    // Runs before any test issues a coupon from the template.
    await svc.app.kit.ds.query(`DELETE FROM coupon_template WHERE code = 'WELCOME'`);
    expect(await seedWelcomeTemplate(svc.app.kit)).toBe(true);
  });

  it('is seeded at start from config, once however often the service starts', async () => {
    const [seeded] = await svc.app.kit.ds.query(`SELECT id FROM coupon_template WHERE code = 'WELCOME'`);
    // A restart with other settings leaves the seeded template alone.
    expect(await seedWelcomeTemplate({ ...svc.app.kit, config: { ...svc.app.kit.config, WELCOME_COUPON_AMOUNT: 1 } })).toBe(false);
    expect(await svc.app.kit.ds.query(`SELECT id FROM coupon_template WHERE code = 'WELCOME'`)).toEqual([seeded]);
    const res = await gql(svc.url, TEMPLATES, undefined, operator);
    expect(res.errors).toBeUndefined();
    expect(res.data.couponTemplates).toEqual([
      expect.objectContaining({ code: 'WELCOME', name: 'Welcome coupon', amount: 1500, validDays: 14, issueOnRegistration: true }),
    ]);
  });
});

describe('on member.registered', () => {
  it('issues exactly one WELCOME coupon with an unguessable code, valid for the configured days', async () => {
    const memberId = await register();
    const coupons = await couponList(memberId);
    expect(coupons).toHaveLength(1);
    const [c] = coupons as [CouponView];
    expect(c).toMatchObject({ status: 'ISSUED', amount: 1500, template: { code: 'WELCOME', name: 'Welcome coupon' } });
    expect(c.code).toMatch(/^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{12}$/);
    expect(Date.parse(c.expiresAt) - Date.parse(c.issuedAt)).toBe(14 * 86_400_000);
  });

  it('announces coupon.issued with ids only', async () => {
    const memberId = await register();
    const [coupon] = await couponList(memberId);
    const [template] = await svc.app.kit.ds.getRepository(CouponTemplateEntity).findBy({ code: 'WELCOME' });
    const bus = await Bus.connect({ url: natsUrl(), prefix: svc.scope.prefix, name: 't', log: createLogger('t', 'silent') });
    try {
      const msg = await eventually(async () => {
        const found = await bus.jsm.streams.getMessage(bus.streamName('MARKETING'), { last_by_subj: bus.subject('coupon.issued') });
        expect(decodeEnvelope(found!.data).data).toMatchObject({ memberId });
        return found!;
      });
      const event = decodeEnvelope(msg.data);
      expect(event).toMatchObject({ type: 'coupon.issued', source: 'marketing', subject: memberId });
      expect(couponIssued.strict().parse(event.data)).toEqual({ couponId: coupon!.id, memberId, templateId: template!.id });
    } finally {
      await bus.close();
    }
  });

  it('issues nothing more when the same event is redelivered or the registration is announced again', async () => {
    const memberId = newId();
    const first = registered(memberId);
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(first));
    // Same envelope under another msgID: JetStream cannot dedupe it, the inbox must.
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(first, `${first.id}-redelivered`));
    // A new event id for the same member: the issue key must.
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(registered(memberId)));
    expect(await couponList(memberId)).toHaveLength(1);
    expect(await count('SELECT COUNT(*) AS n FROM coupon WHERE member_id = ?', [memberId])).toBe(1);
    expect(await count(`SELECT COUNT(*) AS n FROM outbox WHERE type = 'coupon.issued' AND subject = ?`, [memberId])).toBe(1);
  });

  it('issues one coupon per key even when two transactions race for it', async () => {
    const memberId = newId();
    const template = await svc.app.kit.ds.getRepository(CouponTemplateEntity).findOneByOrFail({ code: 'WELCOME' });
    const key = `test-race:${memberId}`;
    const results = await Promise.all(
      Array.from({ length: 4 }, () => svc.app.kit.uow((em) => issueCoupon(svc.app.kit, em, template, memberId, key))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await count('SELECT COUNT(*) AS n FROM coupon WHERE issue_key = ?', [key])).toBe(1);
  });

  it('applies a new registration template to later registrations only', async () => {
    const earlier = await register();
    const created = await gql(svc.url, CREATE, { input: { code: 'NEWBIE_50', name: 'New member 50', amount: 5000, validDays: 7, issueOnRegistration: true } }, operator);
    expect(created.errors).toBeUndefined();
    expect(created.data.createCouponTemplate).toMatchObject({ code: 'NEWBIE_50', amount: 5000, validDays: 7, issueOnRegistration: true });
    const manual = await gql(svc.url, CREATE, { input: { code: 'MANUAL_5', name: 'Manual five', amount: 500, validDays: 3 } }, operator);
    expect(manual.data.createCouponTemplate.issueOnRegistration).toBe(false);

    const later = await register();
    const coupons = await couponList(later);
    expect(coupons.map((c) => [c.template.code, c.amount])).toEqual([
      ['NEWBIE_50', 5000],
      ['WELCOME', 1500],
    ]);
    expect(Date.parse(coupons[0]!.expiresAt) - Date.parse(coupons[0]!.issuedAt)).toBe(7 * 86_400_000);
    expect((await couponList(earlier)).map((c) => c.template.code)).toEqual(['WELCOME']);
  });
});

describe('Member.coupons', () => {
  it('shows an ISSUED coupon past its expiry as EXPIRED and filters by that status', async () => {
    const memberId = await register();
    await svc.app.kit.ds.query('UPDATE coupon SET expires_at = ? WHERE member_id = ?', [new Date(Date.now() - 1000), memberId]);
    const all = await couponList(memberId);
    expect(all.map((c) => c.status)).toEqual(['EXPIRED', 'EXPIRED']);
    expect(await couponList(memberId, 'EXPIRED')).toHaveLength(2);
    expect(await couponList(memberId, 'ISSUED')).toEqual([]);
  });

  it('lists a member\'s coupons newest first', async () => {
    const memberId = newId();
    const template = await svc.app.kit.ds.getRepository(CouponTemplateEntity).findOneByOrFail({ code: 'MANUAL_5' });
    for (const n of [1, 2, 3]) await svc.app.kit.uow((em) => issueCoupon(svc.app.kit, em, template, memberId, `test-order:${memberId}:${n}`));
    const ids = (await couponList(memberId)).map((c) => c.id);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(ids).toHaveLength(3);
  });
});

describe('createCouponTemplate', () => {
  const input = { code: 'SUMMER_20', name: 'Summer twenty', amount: 2000, validDays: 30 };

  it('rejects invalid input with BAD_USER_INPUT naming the field, and writes nothing', async () => {
    const before = await count('SELECT COUNT(*) AS n FROM coupon_template');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ code: 'summer' }, 'code'],
      [{ code: 'S' }, 'code'],
      [{ code: 'X'.repeat(33) }, 'code'],
      [{ name: '  ' }, 'name'],
      [{ name: 'n'.repeat(65) }, 'name'],
      [{ amount: 0 }, 'amount'],
      [{ amount: -100 }, 'amount'],
      [{ validDays: 0 }, 'validDays'],
      [{ validDays: 3651 }, 'validDays'],
    ];
    for (const [patch, field] of cases) {
      const res = await gql(svc.url, CREATE, { input: { ...input, ...patch } }, operator);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const fractional = await gql(svc.url, CREATE, { input: { ...input, amount: 1.5 } }, operator);
    expect(fractional.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await count('SELECT COUNT(*) AS n FROM coupon_template')).toBe(before);
  });

  it('answers a code in use with CONFLICT and changes nothing', async () => {
    const before = await svc.app.kit.ds.query('SELECT * FROM coupon_template ORDER BY id');
    const res = await gql(svc.url, CREATE, { input: { ...input, code: 'WELCOME', amount: 1 } }, operator);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'code' });
    expect(await svc.app.kit.ds.query('SELECT * FROM coupon_template ORDER BY id')).toEqual(before);
  });

  it('trims the name', async () => {
    const res = await gql(svc.url, CREATE, { input: { ...input, name: '  Summer twenty  ' } }, await tokenFor([Role.ADMIN]));
    expect(res.data.createCouponTemplate).toMatchObject({ code: 'SUMMER_20', name: 'Summer twenty', issueOnRegistration: false });
  });
});

describe('access', () => {
  let memberId: string;
  beforeAll(async () => {
    memberId = await register();
  });

  it('lets a member read their own coupons and no one else\'s', async () => {
    const self = await tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });
    const other = await tokenFor([Role.MEMBER], { kind: 'member', sub: newId() });
    const own = await couponsOf(memberId, self);
    expect(own.errors).toBeUndefined();
    expect(own.data!._entities[0]!.coupons.map((c) => c.template.code)).toEqual(['NEWBIE_50', 'WELCOME']);
    expect((await couponsOf(memberId, other)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses anonymous callers with UNAUTHENTICATED', async () => {
    expect((await couponsOf(memberId)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await gql(svc.url, TEMPLATES)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('lets back-office readers see coupons but only OPERATOR or ADMIN manage templates', async () => {
    const analyst = await tokenFor([Role.ANALYST]);
    const member = await tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });
    expect((await couponsOf(memberId, analyst)).data!._entities[0]!.coupons).toHaveLength(2);
    for (const token of [analyst, member]) {
      const res = await gql(svc.url, CREATE, { input: { code: 'NOPE_1', name: 'Nope', amount: 100, validDays: 1 } }, token);
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await gql(svc.url, TEMPLATES, undefined, token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect(await count(`SELECT COUNT(*) AS n FROM coupon_template WHERE code = 'NOPE_1'`)).toBe(0);
  });
});
