/** What a reward gives: a coupon marketing issues, a physical gift to fulfil, or a virtual benefit granted at once. */
export const RewardType = { COUPON: 'COUPON', GIFT: 'GIFT', VIRTUAL: 'VIRTUAL' } as const;
export type RewardType = (typeof RewardType)[keyof typeof RewardType];

/**
 * Where a redemption stands. VIRTUAL: GRANTED at once. COUPON: COUPON_REQUESTED (marketing issues it
 * from `points.reward_redeemed`). GIFT: PENDING -> SHIPPED -> DELIVERED (or PENDING -> DELIVERED, handed
 * over in store), moved by OPERATOR.
 */
export const RedemptionStatus = {
  GRANTED: 'GRANTED',
  COUPON_REQUESTED: 'COUPON_REQUESTED',
  PENDING: 'PENDING',
  SHIPPED: 'SHIPPED',
  DELIVERED: 'DELIVERED',
} as const;
export type RedemptionStatus = (typeof RedemptionStatus)[keyof typeof RedemptionStatus];

/** The status a new redemption of `type` starts in. */
export function initialStatus(type: RewardType): RedemptionStatus {
  return type === RewardType.VIRTUAL ? RedemptionStatus.GRANTED : type === RewardType.COUPON ? RedemptionStatus.COUPON_REQUESTED : RedemptionStatus.PENDING;
}

const GIFT_STEPS: Record<string, readonly string[]> = {
  PENDING: ['SHIPPED', 'DELIVERED'],
  SHIPPED: ['DELIVERED'],
  DELIVERED: [],
};

/** A gift's fulfilment moves forward only: `replay` when it is already there, `conflict` when it cannot go there. */
export function decideFulfilment(type: string, from: string, to: string): 'apply' | 'replay' | 'conflict' {
  if (type !== RewardType.GIFT) return 'conflict';
  if (from === to) return 'replay';
  return GIFT_STEPS[from]?.includes(to) ? 'apply' : 'conflict';
}

/** A reward's terms as redemption reads them. */
export interface RewardTerms {
  /** Points per unit. */
  cost: number;
  /** Units left. */
  stock: number;
  /** Units one member may redeem in all; null = no limit. */
  perMemberLimit: number | null;
  validFrom: Date | null;
  /** Exclusive. */
  validUntil: Date | null;
  /** Tiers allowed to redeem; null = every tier. */
  tiers: string[] | null;
}

export type RedemptionRefusal =
  | { code: 'NOT_AVAILABLE'; message: string }
  | { code: 'TIER'; message: string }
  | { code: 'OUT_OF_STOCK'; message: string }
  | { code: 'MEMBER_LIMIT'; message: string };

/** Whether a member of `tier` who already redeemed `redeemedByMember` units may take `quantity` more now, and for how many points. */
export function checkRedemption(
  reward: RewardTerms,
  ask: { quantity: number; tier: string; now: Date; redeemedByMember: number },
): { ok: true; points: number } | ({ ok: false } & RedemptionRefusal) {
  const t = ask.now.getTime();
  if ((reward.validFrom && t < reward.validFrom.getTime()) || (reward.validUntil && t >= reward.validUntil.getTime())) {
    return { ok: false, code: 'NOT_AVAILABLE', message: 'The reward cannot be redeemed at this time' };
  }
  if (reward.tiers && !reward.tiers.includes(ask.tier)) return { ok: false, code: 'TIER', message: `The reward is for tiers ${reward.tiers.join(', ')}` };
  if (reward.stock < ask.quantity) return { ok: false, code: 'OUT_OF_STOCK', message: `${reward.stock} left, ${ask.quantity} asked` };
  if (reward.perMemberLimit !== null && ask.redeemedByMember + ask.quantity > reward.perMemberLimit) {
    return { ok: false, code: 'MEMBER_LIMIT', message: `At most ${reward.perMemberLimit} per member; ${ask.redeemedByMember} already redeemed` };
  }
  const points = reward.cost * ask.quantity;
  if (!Number.isSafeInteger(points)) throw new RangeError('redemption cost overflow');
  return { ok: true, points };
}

export interface RewardInput {
  name: string;
  description?: string | null;
  type: string;
  cost: number;
  stock: number;
  perMemberLimit?: number | null;
  validFrom?: Date | null;
  validUntil?: Date | null;
  tiers?: string[] | null;
  couponTemplateId?: string | null;
}

/** Every bad field of a new reward, in input order; empty when it is fine. */
export function validateReward(r: RewardInput): Array<{ field: string; message: string }> {
  const out: Array<{ field: string; message: string }> = [];
  const name = r.name.trim();
  if (!name || name.length > 64) out.push({ field: 'name', message: 'must be 1-64 characters' });
  if (r.description && r.description.length > 255) out.push({ field: 'description', message: 'must be at most 255 characters' });
  if (!Object.values(RewardType).includes(r.type as RewardType)) out.push({ field: 'type', message: 'must be COUPON, GIFT or VIRTUAL' });
  if (!Number.isSafeInteger(r.cost) || r.cost < 1 || r.cost > 10_000_000) out.push({ field: 'cost', message: 'must be 1-10,000,000 points' });
  if (!Number.isSafeInteger(r.stock) || r.stock < 0 || r.stock > 10_000_000) out.push({ field: 'stock', message: 'must be 0-10,000,000 units' });
  if (r.perMemberLimit !== null && r.perMemberLimit !== undefined && (!Number.isSafeInteger(r.perMemberLimit) || r.perMemberLimit < 1 || r.perMemberLimit > 10_000)) {
    out.push({ field: 'perMemberLimit', message: 'must be 1-10,000 units, or left out for no limit' });
  }
  if (r.validFrom && r.validUntil && r.validUntil.getTime() <= r.validFrom.getTime()) out.push({ field: 'validUntil', message: 'must be after validFrom' });
  if (r.tiers && (r.tiers.length === 0 || r.tiers.length > 10 || r.tiers.some((t) => !/^[A-Z][A-Z0-9_]{0,15}$/.test(t)))) {
    out.push({ field: 'tiers', message: 'must be 1-10 upper-case tier codes, or left out for every tier' });
  }
  const template = r.couponTemplateId?.trim();
  if (r.type === RewardType.COUPON && !template) out.push({ field: 'couponTemplateId', message: 'is required for a COUPON reward' });
  if (r.type !== RewardType.COUPON && template) out.push({ field: 'couponTemplateId', message: 'is only for COUPON rewards' });
  if (template && template.length > 64) out.push({ field: 'couponTemplateId', message: 'must be at most 64 characters' });
  return out;
}
