import { beforeAll, describe, expect, it } from 'vitest';
import { Role, STREAMS, newId, type EventEnvelope } from '@membergraph/platform';
import { EventType, type PointsRewardRedeemed } from '@membergraph/contracts';
import { envelopeFrom, gql, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { createCouponTemplate } from '../src/services/coupon-template.service';
import { pointsRewardRedeemedHandler } from '../src/events/handlers/points-reward-redeemed.handler';
import type { CouponTemplateRow } from '../src/entities/coupon-template.entity';

// The probe plays the points service on the POINTS stream.
const svc = serviceUnderTest('marketing', createApp, { probe: STREAMS.points, probeName: 'marketing-points-test', env: { LOCK_SWEEP_INTERVAL_MS: '0' } });
const CONSUMER = 'marketing-points';
let coffee: CouponTemplateRow;

const COUPONS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { coupons { id code status amount template { code } } } } }`;

/** A `points.reward_redeemed` as the points service publishes it: a COUPON reward of `quantity` units. */
function redeemed(memberId: string, overrides: Partial<PointsRewardRedeemed> = {}): EventEnvelope<PointsRewardRedeemed> {
  return envelopeFrom<PointsRewardRedeemed>('points', EventType.PointsRewardRedeemed, memberId, {
    memberId,
    redemptionId: newId(),
    rewardId: newId(),
    rewardType: 'COUPON',
    quantity: 3,
    points: 300,
    entryId: newId(),
    couponTemplateId: coffee.id,
    redeemedAt: new Date().toISOString(),
    ...overrides,
  });
}

/** Publishes `event` (under `msgID`, to get past JetStream dedupe as a redelivery would) and waits until marketing applied it. */
async function deliver(event: EventEnvelope, msgID?: string) {
  await svc.probe.consumed(CONSUMER, await svc.probe.publish(event, msgID));
}

/** The member's coupons as they see them through `Member.coupons`. */
async function couponsOf(memberId: string) {
  const res = await gql(svc.url, COUPONS, { reps: [{ __typename: 'Member', id: memberId }] }, await tokenFor([Role.MEMBER], { kind: 'member', sub: memberId }));
  expect(res.errors).toBeUndefined();
  return res.data._entities[0].coupons as Array<{ id: string; code: string; status: string; amount: number; template: { code: string } }>;
}

const issuedEvents = async (memberId: string) =>
  Number((await svc.app.kit.ds.query("SELECT COUNT(*) AS n FROM outbox WHERE type = 'coupon.issued' AND subject = ?", [memberId]))[0].n);

beforeAll(async () => {
  coffee = await svc.app.kit.uow((em) => createCouponTemplate(em, { code: 'COFFEE', name: 'Free coffee', amount: 1800, validDays: 60 }));
});

describe('on points.reward_redeemed', () => {
  it('issues quantity coupons of the reward\'s template to the member, visible in Member.coupons and announced', async () => {
    const memberId = newId();
    await deliver(redeemed(memberId));
    const coupons = await couponsOf(memberId);
    expect(coupons).toHaveLength(3);
    expect(coupons.every((c) => c.status === 'ISSUED' && c.amount === 1800 && c.template.code === 'COFFEE')).toBe(true);
    expect(new Set(coupons.map((c) => c.code)).size).toBe(3);
    expect(await issuedEvents(memberId)).toBe(3);
  });

  it('issues once per redemption: a redelivery and a second event about it add nothing', async () => {
    const memberId = newId();
    const event = redeemed(memberId, { quantity: 2 });
    await deliver(event);
    await deliver(event, `${event.id}-again`);
    // Another envelope (a re-publication from the outbox under a new id) about the same redemption.
    await deliver({ ...event, id: newId() });
    expect(await couponsOf(memberId)).toHaveLength(2);
    expect(await issuedEvents(memberId)).toBe(2);
    const keys = await svc.app.kit.ds.query('SELECT issue_key FROM coupon WHERE member_id = ? ORDER BY issue_key', [memberId]);
    expect(keys.map((k: { issue_key: string }) => k.issue_key)).toEqual([`reward:${event.data.redemptionId}:1`, `reward:${event.data.redemptionId}:2`]);
  });

  it('accepts the template by its code as well as its id', async () => {
    const memberId = newId();
    await deliver(redeemed(memberId, { quantity: 1, couponTemplateId: 'COFFEE' }));
    expect((await couponsOf(memberId)).map((c) => c.template.code)).toEqual(['COFFEE']);
  });

  it('leaves GIFT and VIRTUAL redemptions alone', async () => {
    const memberId = newId();
    await deliver(redeemed(memberId, { rewardType: 'GIFT', couponTemplateId: null }));
    await deliver(redeemed(memberId, { rewardType: 'VIRTUAL', couponTemplateId: null }));
    expect(await couponsOf(memberId)).toEqual([]);
  });

  it('refuses a template it does not know, issuing nothing (the event is retried, then dead-lettered for replay)', async () => {
    const memberId = newId();
    const handle = pointsRewardRedeemedHandler(svc.app.kit);
    await expect(svc.app.kit.uow((em) => handle({ em, log: svc.app.kit.log }, redeemed(memberId, { couponTemplateId: 'NO_SUCH_TEMPLATE' })))).rejects.toThrow(/NO_SUCH_TEMPLATE/);
    expect(await couponsOf(memberId)).toEqual([]);
  });
});
