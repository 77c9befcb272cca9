/**
 * Member facts as a fold over events. Every step commutes with every other, so events may arrive
 * in any order (an order even before its registration). Steps are not idempotent: duplicates are
 * removed before they get here, by the consumer's inbox.
 */
export interface MemberFacts {
  memberId: string;
  /** Registration channel; null until the registration is known. */
  channel: string | null;
  registeredAt: Date | null;
  orderCount: number;
  /** Sum of completed orders, in fen. */
  totalSpend: number;
  firstOrderAt: Date | null;
  lastOrderAt: Date | null;
}

export interface RegistrationFact {
  channel: string;
  registeredAt: Date;
}

export interface OrderFact {
  /** Paid amount in fen. */
  amount: number;
  completedAt: Date;
}

/** What is known about a member before any event. */
export function emptyFacts(memberId: string): MemberFacts {
  return { memberId, channel: null, registeredAt: null, orderCount: 0, totalSpend: 0, firstOrderAt: null, lastOrderAt: null };
}

const earlier = (a: Date | null, b: Date) => (a === null || b.getTime() < a.getTime() ? b : a);
const later = (a: Date | null, b: Date) => (a === null || b.getTime() > a.getTime() ? b : a);

/** Records a registration; if two arrive, the earlier one wins (ties keep the smaller channel), whatever the order. */
export function applyRegistration(facts: MemberFacts, reg: RegistrationFact): MemberFacts {
  const current = facts.registeredAt;
  const wins =
    current === null ||
    reg.registeredAt.getTime() < current.getTime() ||
    (reg.registeredAt.getTime() === current.getTime() && facts.channel !== null && reg.channel < facts.channel);
  return wins ? { ...facts, channel: reg.channel, registeredAt: reg.registeredAt } : facts;
}

/** Adds a completed order: counts and spend grow, first/last order times move only outward. */
export function applyOrder(facts: MemberFacts, order: OrderFact): MemberFacts {
  if (!Number.isSafeInteger(order.amount) || order.amount < 0) throw new RangeError(`order amount must be whole fen >= 0, got ${order.amount}`);
  const totalSpend = facts.totalSpend + order.amount;
  if (!Number.isSafeInteger(totalSpend)) throw new RangeError(`total spend of ${facts.memberId} overflows`);
  return {
    ...facts,
    orderCount: facts.orderCount + 1,
    totalSpend,
    firstOrderAt: earlier(facts.firstOrderAt, order.completedAt),
    lastOrderAt: later(facts.lastOrderAt, order.completedAt),
  };
}

/** What `Member.insights` shows: zeros and nulls for a member nothing is known about. */
export interface Insights {
  orderCount: number;
  totalSpend: number;
  lastOrderAt: Date | null;
  registeredAt: Date | null;
}

export function insightsOf(facts: MemberFacts): Insights {
  return { orderCount: facts.orderCount, totalSpend: facts.totalSpend, lastOrderAt: facts.lastOrderAt, registeredAt: facts.registeredAt };
}
