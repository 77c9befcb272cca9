/** Velocity rules that put an earning on hold for review instead of granting it. */
export const VelocityRule = {
  /** More than `maxEvents` earnings by one member in the window. */
  EARN_COUNT: 'EARN_COUNT',
  /** More than `maxPoints` points earned by one member in the window. */
  EARN_POINTS: 'EARN_POINTS',
  /** More than `maxMembersPerDevice` members earning from one device in the window. */
  DEVICE: 'DEVICE',
  /** More than `maxMembersPerIp` members earning from one IP address in the window. */
  IP: 'IP',
} as const;
export type VelocityRule = (typeof VelocityRule)[keyof typeof VelocityRule];

/** Limits per window; 0 turns a rule off. */
export interface VelocityLimits {
  maxEvents: number;
  maxPoints: number;
  maxMembersPerDevice: number;
  maxMembersPerIp: number;
}

/** What happened in the window before this earning (held-for-review earnings included: attempts count). */
export interface VelocityFacts {
  /** This member's earnings. */
  events: number;
  /** This member's points. */
  points: number;
  /** Other members who earned from the same device (0 when no device was given). */
  otherMembersOnDevice: number;
  /** Other members who earned from the same IP (0 when no IP was given). */
  otherMembersOnIp: number;
}

/** The first rule this earning of `points` breaks, with the figures, or null to grant it. */
export function assessVelocity(points: number, facts: VelocityFacts, limits: VelocityLimits): { rule: VelocityRule; detail: string } | null {
  if (limits.maxEvents > 0 && facts.events + 1 > limits.maxEvents) {
    return { rule: VelocityRule.EARN_COUNT, detail: `earning ${facts.events + 1} in the window, limit ${limits.maxEvents}` };
  }
  if (limits.maxPoints > 0 && facts.points + points > limits.maxPoints) {
    return { rule: VelocityRule.EARN_POINTS, detail: `${facts.points + points} points in the window, limit ${limits.maxPoints}` };
  }
  if (limits.maxMembersPerDevice > 0 && facts.otherMembersOnDevice + 1 > limits.maxMembersPerDevice) {
    return { rule: VelocityRule.DEVICE, detail: `${facts.otherMembersOnDevice + 1} members on one device in the window, limit ${limits.maxMembersPerDevice}` };
  }
  if (limits.maxMembersPerIp > 0 && facts.otherMembersOnIp + 1 > limits.maxMembersPerIp) {
    return { rule: VelocityRule.IP, detail: `${facts.otherMembersOnIp + 1} members on one IP in the window, limit ${limits.maxMembersPerIp}` };
  }
  return null;
}

/** Review states: PENDING until ADMIN/SUPPORT decide, once. */
export const ReviewStatus = { PENDING: 'PENDING', APPROVED: 'APPROVED', REJECTED: 'REJECTED' } as const;
export type ReviewStatus = (typeof ReviewStatus)[keyof typeof ReviewStatus];

/** A review is decided once: the same decision again replays, the other one is a conflict. */
export function decideReview(status: string, to: 'APPROVED' | 'REJECTED'): 'apply' | 'replay' | 'conflict' {
  if (status === ReviewStatus.PENDING) return 'apply';
  return status === to ? 'replay' : 'conflict';
}
