import type { EntityManager } from 'typeorm';
import { isDuplicateKey, newId, type ServiceKit } from '@membergraph/platform';
import { EventType, checkedData } from '@membergraph/contracts';
import { CouponEntity, type CouponRow } from '../entities/coupon.entity';
import type { CouponTemplateRow } from '../entities/coupon-template.entity';
import { CouponStatus, couponExpiresAt, effectiveStatus, registrationIssueKey, rewardIssueKey } from '../domain/coupon';
import { newCouponCode } from '../domain/coupon-code';
import { registrationTemplates, templateByIdOrCode } from './coupon-template.service';

const CODE_ATTEMPTS = 3;

/**
 * Issues one coupon from `template` under `issueKey`, announced as `coupon.issued` in the same
 * transaction. A key that already issued a coupon is a no-op (null), however the attempts race.
 */
export async function issueCoupon(
  kit: ServiceKit,
  em: EntityManager,
  template: CouponTemplateRow,
  memberId: string,
  issueKey: string,
  now = new Date(),
): Promise<CouponRow | null> {
  const coupons = em.getRepository(CouponEntity);
  if (await coupons.existsBy({ issueKey })) return null;
  for (let attempt = 1; ; attempt++) {
    const row: CouponRow = {
      id: newId(),
      code: newCouponCode(),
      templateId: template.id,
      memberId,
      status: CouponStatus.ISSUED,
      amount: template.amount,
      issuedAt: now,
      expiresAt: couponExpiresAt(now, template.validDays),
      issueKey,
      paymentId: null,
      lockedAt: null,
      redeemedAt: null,
    };
    try {
      await coupons.insert(row);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // A concurrent transaction issued under this key first (we waited on its row lock and now
      // see it committed), or, about once in 2^60, the random code collided: then draw again.
      if (await coupons.existsBy({ issueKey })) return null;
      if (attempt >= CODE_ATTEMPTS) throw err;
      continue;
    }
    await kit.publish(em, EventType.CouponIssued, memberId, checkedData(EventType.CouponIssued, { couponId: row.id, memberId, templateId: template.id }));
    return row;
  }
}

/** Issues the coupons of every registration template to a newly registered member (idempotent). */
export async function issueRegistrationCoupons(kit: ServiceKit, em: EntityManager, memberId: string, now = new Date()): Promise<CouponRow[]> {
  const issued: CouponRow[] = [];
  for (const template of await registrationTemplates(em)) {
    const coupon = await issueCoupon(kit, em, template, memberId, registrationIssueKey(memberId, template.id), now);
    if (coupon) issued.push(coupon);
  }
  return issued;
}

export interface RewardCouponsInput {
  redemptionId: string;
  memberId: string;
  /** The reward's coupon template: its id or its code. */
  templateRef: string;
  quantity: number;
}

/** The reward names a coupon template marketing does not have: retrying cannot help until an operator creates it. */
export class UnknownRewardTemplateError extends Error {
  constructor(readonly templateRef: string) {
    super(`points redemption asks for coupon template ${templateRef}, which does not exist`);
  }
}

/**
 * Issues the `quantity` coupons a points redemption bought, each under its own key
 * (`reward:<redemptionId>:<n>`), so however often the redemption is announced the member holds
 * exactly `quantity` of them. Returns the coupons issued now (none on a repeat).
 */
export async function issueRewardCoupons(kit: ServiceKit, em: EntityManager, input: RewardCouponsInput, now = new Date()): Promise<CouponRow[]> {
  const template = await templateByIdOrCode(em, input.templateRef);
  if (!template) throw new UnknownRewardTemplateError(input.templateRef);
  const issued: CouponRow[] = [];
  for (let n = 1; n <= input.quantity; n++) {
    const coupon = await issueCoupon(kit, em, template, input.memberId, rewardIssueKey(input.redemptionId, n), now);
    if (coupon) issued.push(coupon);
  }
  return issued;
}

/**
 * A member's coupons, newest first, with the status a caller sees (see effectiveStatus), optionally
 * only those in `status`. Filtered after reading so the rule lives in one place.
 */
export async function memberCoupons(em: EntityManager, memberId: string, status?: CouponStatus | null, now = new Date()): Promise<CouponRow[]> {
  const rows = await em.getRepository(CouponEntity).find({ where: { memberId }, order: { id: 'DESC' } });
  const seen = rows.map((r) => ({ ...r, status: effectiveStatus(r, now) }));
  return status ? seen.filter((r) => r.status === status) : seen;
}
