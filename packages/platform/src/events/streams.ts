/** A JetStream stream owned by one producing service. */
export interface StreamDefinition {
  name: string;
  subjects: string[];
  maxAgeMs?: number;
}

/** One stream per producing service, named by what it owns. */
export const STREAMS = {
  member: { name: 'MEMBER', subjects: ['member.>', 'order.>'] },
  points: { name: 'POINTS', subjects: ['points.>'] },
  wallet: { name: 'WALLET', subjects: ['wallet.>'] },
  marketing: { name: 'MARKETING', subjects: ['coupon.>', 'marketing.>'] },
  analytics: { name: 'ANALYTICS', subjects: ['analytics.>'] },
} satisfies Record<string, StreamDefinition>;

/** Messages a consumer gave up on, kept for an operator to inspect and replay (30 days). */
export const DLQ_STREAM: StreamDefinition = { name: 'DLQ', subjects: ['dlq.>'], maxAgeMs: 30 * 24 * 3600_000 };
