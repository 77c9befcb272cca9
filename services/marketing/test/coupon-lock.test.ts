import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus, Role, callRequest, createLogger, newId } from '@membergraph/platform';
import { MarketingRpc, couponLocked, type CouponLockReply, type CouponPaymentRequest, type LockCouponRequest } from '@membergraph/contracts';
import { eventually, gql, natsUrl, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { issueCoupon, memberCoupons } from '../src/services/coupon.service';
import { createCouponTemplate } from '../src/services/coupon-template.service';
import { lockCoupon } from '../src/services/coupon-lock.service';
import type { CouponTemplateRow } from '../src/entities/coupon-template.entity';
import type { CouponRow } from '../src/entities/coupon.entity';

const svc = serviceUnderTest('marketing', createApp, {
  // The sweeper ticks fast; it only ever finds locks a test has aged on purpose (TTL stays 900 s).
  env: { LOCK_SWEEP_INTERVAL_MS: '100' },
});
let bus: Bus;
let template: CouponTemplateRow;

beforeAll(async () => {
  bus = await Bus.connect({ url: natsUrl(), prefix: svc.scope.prefix, name: 'test-wallet', log: createLogger('t', 'silent') });
  template = await svc.app.kit.uow((em) => createCouponTemplate(em, { code: 'TEN_OFF', name: 'Ten off', amount: 1000, validDays: 30 }));
});
afterAll(async () => {
  await bus?.close();
});

const lock = (req: LockCouponRequest) => callRequest<LockCouponRequest, CouponLockReply>(bus, MarketingRpc.LockCoupon, req);
const redeem = (req: CouponPaymentRequest) => callRequest<CouponPaymentRequest, CouponLockReply>(bus, MarketingRpc.RedeemCoupon, req);
const release = (req: CouponPaymentRequest) => callRequest<CouponPaymentRequest, CouponLockReply>(bus, MarketingRpc.ReleaseCoupon, req);
const restore = (req: CouponPaymentRequest) => callRequest<CouponPaymentRequest, CouponLockReply>(bus, MarketingRpc.RestoreCoupon, req);

/** A fresh ISSUED coupon from TEN_OFF (10 yuan) for a new member. */
async function aCoupon(memberId = newId()): Promise<CouponRow> {
  return (await svc.app.kit.uow((em) => issueCoupon(svc.app.kit, em, template, memberId, `test:${newId()}`)))!;
}
async function row(couponId: string) {
  const [r] = await svc.app.kit.ds.query('SELECT status, payment_id, locked_at, redeemed_at FROM coupon WHERE id = ?', [couponId]);
  return r as { status: string; payment_id: string | null; locked_at: Date | null; redeemed_at: Date | null };
}
async function use(couponId: string, paymentId: string) {
  const [r] = await svc.app.kit.ds.query('SELECT status, discount, release_reason FROM coupon_use WHERE coupon_id = ? AND payment_id = ?', [couponId, paymentId]);
  return r as { status: string; discount: string; release_reason: string | null } | undefined;
}
/** The events about `couponId` in the outbox, oldest first, as `type:paymentId`. */
async function events(couponId: string): Promise<string[]> {
  const rows: Array<{ type: string; payload: string }> = await svc.app.kit.ds.query(`SELECT type, payload FROM outbox WHERE type <> 'coupon.issued' ORDER BY seq`);
  return rows
    .map((r) => ({ type: r.type, data: (JSON.parse(r.payload) as { data: { couponId: string; paymentId: string } }).data }))
    .filter((e) => e.data.couponId === couponId)
    .map((e) => `${e.type}:${e.data.paymentId}`);
}
const rejection = (code: string, field?: string) => ({ extensions: expect.objectContaining(field ? { code, field } : { code }) });

describe('LockCoupon', () => {
  it('locks an ISSUED coupon for the payment and answers its discount, announced as coupon.locked', async () => {
    const c = await aCoupon();
    const pay = newId();
    const reply = await lock({ memberId: c.memberId, couponCode: c.code, paymentId: pay, orderAmount: 5000 });
    expect(reply).toEqual({ couponId: c.id, couponCode: c.code, status: 'LOCKED', discount: 1000 });
    expect(await row(c.id)).toMatchObject({ status: 'LOCKED', payment_id: pay, redeemed_at: null });
    expect(await events(c.id)).toEqual([`coupon.locked:${pay}`]);
    const [outbox] = await svc.app.kit.ds.query(`SELECT subject, payload FROM outbox WHERE type = 'coupon.locked' AND payload LIKE ?`, [`%${c.id}%`]);
    expect(outbox.subject).toBe(c.memberId);
    expect(couponLocked.strict().parse(JSON.parse(outbox.payload).data)).toEqual({ couponId: c.id, memberId: c.memberId, paymentId: pay });
  });

  it('caps the discount at the order amount', async () => {
    const c = await aCoupon();
    expect(await lock({ memberId: c.memberId, couponCode: c.code, paymentId: newId(), orderAmount: 650 })).toMatchObject({ discount: 650 });
  });

  it('finds the coupon however its code is typed', async () => {
    const c = await aCoupon();
    expect(await lock({ memberId: c.memberId, couponCode: ` ${c.code.toLowerCase()} `, paymentId: newId(), orderAmount: 5000 })).toMatchObject({ couponId: c.id, couponCode: c.code });
  });

  it('answers a repeat with the first reply and changes nothing more; another order amount is CONFLICT', async () => {
    const c = await aCoupon();
    const req = { memberId: c.memberId, couponCode: c.code, paymentId: newId(), orderAmount: 800 };
    const first = await lock(req);
    const again = await Promise.all([lock(req), lock(req)]);
    expect(again).toEqual([first, first]);
    await expect(lock({ ...req, orderAmount: 5000 })).rejects.toMatchObject(rejection('CONFLICT', 'couponCode'));
    expect(await events(c.id)).toEqual([`coupon.locked:${req.paymentId}`]);
  });

  it('gives the coupon to exactly one of several payments racing for it', async () => {
    const c = await aCoupon();
    const payments = [newId(), newId(), newId(), newId()];
    const results = await Promise.allSettled(payments.map((paymentId) => lock({ memberId: c.memberId, couponCode: c.code, paymentId, orderAmount: 5000 })));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [payments[i]!] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject(rejection('CONFLICT', 'couponCode'));
    expect(await row(c.id)).toMatchObject({ status: 'LOCKED', payment_id: won[0] });
    expect(await svc.app.kit.ds.query('SELECT payment_id FROM coupon_use WHERE coupon_id = ?', [c.id])).toEqual([{ payment_id: won[0] }]);
    expect(await events(c.id)).toEqual([`coupon.locked:${won[0]}`]);
  });

  it('answers NOT_FOUND for another member\'s coupon or an unknown code, and locks nothing', async () => {
    const c = await aCoupon();
    await expect(lock({ memberId: newId(), couponCode: c.code, paymentId: newId(), orderAmount: 5000 })).rejects.toMatchObject(rejection('NOT_FOUND'));
    await expect(lock({ memberId: c.memberId, couponCode: 'NOSUCHCODE22', paymentId: newId(), orderAmount: 5000 })).rejects.toMatchObject(rejection('NOT_FOUND'));
    expect(await row(c.id)).toMatchObject({ status: 'ISSUED', payment_id: null });
  });

  it('refuses an expired coupon with CONFLICT, even before a sweep wrote EXPIRED down', async () => {
    const c = await aCoupon();
    await svc.app.kit.ds.query('UPDATE coupon SET expires_at = ? WHERE id = ?', [new Date(Date.now() - 1000), c.id]);
    await expect(lock({ memberId: c.memberId, couponCode: c.code, paymentId: newId(), orderAmount: 5000 })).rejects.toMatchObject(rejection('CONFLICT', 'couponCode'));
    for (const status of ['EXPIRED', 'VOID']) {
      const d = await aCoupon();
      await svc.app.kit.ds.query('UPDATE coupon SET status = ? WHERE id = ?', [status, d.id]);
      await expect(lock({ memberId: d.memberId, couponCode: d.code, paymentId: newId(), orderAmount: 5000 })).rejects.toMatchObject(rejection('CONFLICT', 'couponCode'));
    }
    expect(await row(c.id)).toMatchObject({ status: 'ISSUED' });
  });

  it('rejects a malformed request with BAD_USER_INPUT naming the field', async () => {
    const c = await aCoupon();
    const ok = { memberId: c.memberId, couponCode: c.code, paymentId: newId(), orderAmount: 5000 };
    await expect(lock({ ...ok, orderAmount: 0 })).rejects.toMatchObject(rejection('BAD_USER_INPUT', 'orderAmount'));
    await expect(lock({ ...ok, orderAmount: 10.5 })).rejects.toMatchObject(rejection('BAD_USER_INPUT', 'orderAmount'));
    await expect(lock({ ...ok, paymentId: 'p'.repeat(65) })).rejects.toMatchObject(rejection('BAD_USER_INPUT', 'paymentId'));
    await expect(redeem({ couponCode: '', paymentId: ok.paymentId })).rejects.toMatchObject(rejection('BAD_USER_INPUT', 'couponCode'));
  });
});

describe('RedeemCoupon, ReleaseCoupon, RestoreCoupon', () => {
  it('redeems the payment\'s lock once; a repeat gets the same reply', async () => {
    const c = await aCoupon();
    const pay = newId();
    await lock({ memberId: c.memberId, couponCode: c.code, paymentId: pay, orderAmount: 5000 });
    const reply = await redeem({ couponCode: c.code, paymentId: pay });
    expect(reply).toEqual({ couponId: c.id, couponCode: c.code, status: 'REDEEMED', discount: 1000 });
    expect(await redeem({ couponCode: c.code, paymentId: pay })).toEqual(reply);
    const r = await row(c.id);
    expect(r).toMatchObject({ status: 'REDEEMED', payment_id: pay });
    expect(r.redeemed_at).toBeInstanceOf(Date);
    expect(await events(c.id)).toEqual([`coupon.locked:${pay}`, `coupon.redeemed:${pay}`]);
  });

  it('releases the payment\'s lock back to ISSUED once, so another payment can lock it', async () => {
    const c = await aCoupon();
    const [p1, p2] = [newId(), newId()];
    await lock({ memberId: c.memberId, couponCode: c.code, paymentId: p1, orderAmount: 5000 });
    const reply = await release({ couponCode: c.code, paymentId: p1 });
    expect(reply).toEqual({ couponId: c.id, couponCode: c.code, status: 'ISSUED', discount: 1000 });
    expect(await row(c.id)).toMatchObject({ status: 'ISSUED', payment_id: null, locked_at: null });
    expect(await use(c.id, p1)).toMatchObject({ status: 'RELEASED', release_reason: 'PAYMENT' });

    await lock({ memberId: c.memberId, couponCode: c.code, paymentId: p2, orderAmount: 300 });
    // The first payment's late repeats answer as before and leave the second payment's lock alone.
    expect(await release({ couponCode: c.code, paymentId: p1 })).toEqual(reply);
    expect(await lock({ memberId: c.memberId, couponCode: c.code, paymentId: p1, orderAmount: 5000 })).toMatchObject({ status: 'LOCKED', discount: 1000 });
    await expect(redeem({ couponCode: c.code, paymentId: p1 })).rejects.toMatchObject(rejection('CONFLICT', 'couponCode'));
    expect(await row(c.id)).toMatchObject({ status: 'LOCKED', payment_id: p2 });
    expect(await events(c.id)).toEqual([`coupon.locked:${p1}`, `coupon.released:${p1}`, `coupon.locked:${p2}`]);
  });

  it('restores a redeemed coupon to ISSUED once (the payment was refunded)', async () => {
    const c = await aCoupon();
    const pay = newId();
    await lock({ memberId: c.memberId, couponCode: c.code, paymentId: pay, orderAmount: 5000 });
    await redeem({ couponCode: c.code, paymentId: pay });
    const reply = await restore({ couponCode: c.code, paymentId: pay });
    expect(reply).toEqual({ couponId: c.id, couponCode: c.code, status: 'ISSUED', discount: 1000 });
    expect(await restore({ couponCode: c.code, paymentId: pay })).toEqual(reply);
    expect(await row(c.id)).toMatchObject({ status: 'ISSUED', payment_id: null, redeemed_at: null });
    expect(await use(c.id, pay)).toMatchObject({ status: 'RESTORED' });
    expect(await events(c.id)).toEqual([`coupon.locked:${pay}`, `coupon.redeemed:${pay}`, `coupon.restored:${pay}`]);
  });

  it('answers CONFLICT for steps the coupon\'s state or another payment does not allow', async () => {
    const c = await aCoupon();
    const [p1, p2] = [newId(), newId()];
    await expect(redeem({ couponCode: c.code, paymentId: p1 })).rejects.toMatchObject(rejection('CONFLICT', 'couponCode'));
    await expect(release({ couponCode: c.code, paymentId: p1 })).rejects.toMatchObject(rejection('CONFLICT', 'couponCode'));
    await lock({ memberId: c.memberId, couponCode: c.code, paymentId: p1, orderAmount: 5000 });
    for (const step of [redeem, release, restore]) await expect(step({ couponCode: c.code, paymentId: p2 })).rejects.toMatchObject(rejection('CONFLICT', 'couponCode'));
    await expect(restore({ couponCode: c.code, paymentId: p1 })).rejects.toMatchObject(rejection('CONFLICT', 'couponCode'));
    await redeem({ couponCode: c.code, paymentId: p1 });
    await expect(release({ couponCode: c.code, paymentId: p1 })).rejects.toMatchObject(rejection('CONFLICT', 'couponCode'));
    await expect(lock({ memberId: c.memberId, couponCode: c.code, paymentId: p2, orderAmount: 5000 })).rejects.toMatchObject(rejection('CONFLICT', 'couponCode'));
    await expect(redeem({ couponCode: 'NOSUCHCODE22', paymentId: p1 })).rejects.toMatchObject(rejection('NOT_FOUND'));
    expect(await row(c.id)).toMatchObject({ status: 'REDEEMED', payment_id: p1 });
  });

  it('keeps LOCKED and REDEEMED coupons visible in Member.coupons', async () => {
    const memberId = newId();
    const [a, b] = [await aCoupon(memberId), await aCoupon(memberId)];
    const pay = newId();
    await lock({ memberId, couponCode: a.code, paymentId: newId(), orderAmount: 5000 });
    await lock({ memberId, couponCode: b.code, paymentId: pay, orderAmount: 5000 });
    await redeem({ couponCode: b.code, paymentId: pay });
    const q = `query($reps: [_Any!]!, $status: CouponStatus) { _entities(representations: $reps) { ... on Member { coupons(status: $status) { id status redeemedAt } } } }`;
    const token = await tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });
    const list = async (status?: string) => {
      const res = await gql(svc.url, q, { reps: [{ __typename: 'Member', id: memberId }], status }, token);
      expect(res.errors).toBeUndefined();
      return res.data._entities[0].coupons as Array<{ id: string; status: string; redeemedAt: string | null }>;
    };
    expect((await list()).map((c) => [c.id, c.status])).toEqual([
      [b.id, 'REDEEMED'],
      [a.id, 'LOCKED'],
    ]);
    expect((await list('LOCKED')).map((c) => c.id)).toEqual([a.id]);
    const [redeemed] = await list('REDEEMED');
    expect(redeemed).toMatchObject({ id: b.id, redeemedAt: expect.any(String) });
    expect(await list('ISSUED')).toEqual([]);
  });
});

describe('lock expiry', () => {
  const TTL_MS = 900_000;

  it('the sweeper releases a lock older than LOCK_TTL_SECONDS, after which its payment can no longer redeem', async () => {
    const c = await aCoupon();
    const pay = newId();
    const reply = await lock({ memberId: c.memberId, couponCode: c.code, paymentId: pay, orderAmount: 5000 });
    await svc.app.kit.ds.query('UPDATE coupon SET locked_at = ? WHERE id = ?', [new Date(Date.now() - TTL_MS - 1000), c.id]);
    await eventually(async () => expect(await row(c.id)).toMatchObject({ status: 'ISSUED', payment_id: null, locked_at: null }));
    expect(await use(c.id, pay)).toMatchObject({ status: 'RELEASED', release_reason: 'EXPIRED' });
    expect(await events(c.id)).toEqual([`coupon.locked:${pay}`, `coupon.released:${pay}`]);
    await expect(redeem({ couponCode: c.code, paymentId: pay })).rejects.toMatchObject(rejection('CONFLICT', 'couponCode'));
    // The saga's late repeat of the lock answers as the first time; it does not lock again.
    expect(await lock({ memberId: c.memberId, couponCode: c.code, paymentId: pay, orderAmount: 5000 })).toEqual(reply);
    expect(await row(c.id)).toMatchObject({ status: 'ISSUED' });
  });

  it('runCouponLockExpiry(asOf) releases the locks lapsed by asOf and nothing younger; ADMIN only', async () => {
    const [old, young] = [await aCoupon(), await aCoupon()];
    const [p1, p2] = [newId(), newId()];
    await lock({ memberId: old.memberId, couponCode: old.code, paymentId: p1, orderAmount: 5000 });
    await new Promise((r) => setTimeout(r, 20));
    const asOf = new Date(Date.now() + TTL_MS);
    await lock({ memberId: young.memberId, couponCode: young.code, paymentId: p2, orderAmount: 5000 });
    const mutation = `mutation($asOf: DateTime!) { runCouponLockExpiry(asOf: $asOf) { runId asOf locksReleased } }`;
    const operator = await gql(svc.url, mutation, { asOf: asOf.toISOString() }, await tokenFor([Role.OPERATOR]));
    expect(operator.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await row(old.id)).toMatchObject({ status: 'LOCKED' });

    // Earlier tests left locks too; every lock taken by the cut-off goes, the young one stays.
    const lapsed = Number((await svc.app.kit.ds.query(`SELECT COUNT(*) AS n FROM coupon WHERE status = 'LOCKED' AND locked_at <= ?`, [new Date(asOf.getTime() - TTL_MS)]))[0].n);
    expect(lapsed).toBeGreaterThanOrEqual(1);
    const admin = await tokenFor([Role.ADMIN]);
    const res = await gql(svc.url, mutation, { asOf: asOf.toISOString() }, admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.runCouponLockExpiry).toMatchObject({ asOf: asOf.toISOString(), locksReleased: lapsed });
    expect(await row(old.id)).toMatchObject({ status: 'ISSUED', payment_id: null });
    expect(await row(young.id)).toMatchObject({ status: 'LOCKED', payment_id: p2 });
    const again = await gql(svc.url, mutation, { asOf: asOf.toISOString() }, admin);
    expect(again.data.runCouponLockExpiry.locksReleased).toBe(0);
  });

  it('lets another payment take a coupon whose lock lapsed before any sweep', async () => {
    const c = await aCoupon();
    const [p1, p2] = [newId(), newId()];
    await lock({ memberId: c.memberId, couponCode: c.code, paymentId: p1, orderAmount: 5000 });
    const later = new Date(Date.now() + TTL_MS);
    const reply = await svc.app.kit.uow((em) => lockCoupon(svc.app.kit, em, { memberId: c.memberId, couponCode: c.code, paymentId: p2, orderAmount: 5000 }, later));
    expect(reply).toMatchObject({ status: 'LOCKED', discount: 1000 });
    expect(await row(c.id)).toMatchObject({ status: 'LOCKED', payment_id: p2 });
    expect(await use(c.id, p1)).toMatchObject({ status: 'RELEASED', release_reason: 'EXPIRED' });
    expect(await events(c.id)).toEqual([`coupon.locked:${p1}`, `coupon.released:${p1}`, `coupon.locked:${p2}`]);
    expect((await svc.app.kit.uow((em) => memberCoupons(em, c.memberId))).map((x) => x.status)).toEqual(['LOCKED']);
  });
});
