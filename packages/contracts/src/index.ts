/**
 * Event contracts between services: type names and the shape of `data`, validated on both ends.
 * Events carry ids and amounts, never PII. Changing a shape means a new `version`.
 * Each producing service's events live in their own module; this one joins them.
 */
import type { z } from 'zod';
import { badInput, type EventEnvelope } from '@membergraph/platform';
import { MemberEventType, memberEventSchemas } from './member';
import { PointsEventType, pointsEventSchemas } from './points';
import { WalletEventType, walletEventSchemas } from './wallet';
import { MarketingEventType, marketingEventSchemas } from './marketing';

export * from './member';
export * from './points';
export * from './wallet';
export * from './marketing';

export const EventType = { ...MemberEventType, ...PointsEventType, ...WalletEventType, ...MarketingEventType } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

const schemas = { ...memberEventSchemas, ...pointsEventSchemas, ...walletEventSchemas, ...marketingEventSchemas } as const;
type DataOf<T extends EventType> = z.infer<(typeof schemas)[T]>;

/** The validated `data` of an event of type `type`; a mismatch is a poison message. */
export function eventData<T extends EventType>(type: T, event: EventEnvelope): DataOf<T> {
  if (event.type !== type) throw new Error(`expected ${type}, got ${event.type}`);
  const parsed = schemas[type].safeParse(event.data);
  if (!parsed.success) throw badInput(`malformed ${type} event ${event.id}: ${parsed.error.message}`);
  return parsed.data as DataOf<T>;
}

/** Validates outgoing data against the contract before it enters the outbox. */
export function checkedData<T extends EventType>(type: T, data: DataOf<T>): DataOf<T> {
  return schemas[type].parse(data) as DataOf<T>;
}
