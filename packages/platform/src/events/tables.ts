import { EntitySchema } from 'typeorm';
import { bigintColumn } from '../db';

export interface OutboxRow {
  seq: number;
  id: string;
  type: string;
  subject: string;
  payload: string;
  traceparent: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

/** Events written in the business transaction, published later by the relay. */
export const OutboxEntity = new EntitySchema<OutboxRow>({
  name: 'Outbox',
  tableName: 'outbox',
  columns: {
    seq: { type: 'bigint', primary: true, generated: 'increment', unsigned: true, transformer: bigintColumn },
    id: { type: 'varchar', length: 40, unique: true },
    type: { type: 'varchar', length: 100 },
    subject: { type: 'varchar', length: 64 },
    payload: { type: 'longtext' },
    traceparent: { type: 'varchar', length: 64, nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    sentAt: { name: 'sent_at', type: 'datetime', precision: 3, nullable: true },
  },
  indices: [{ name: 'idx_outbox_pending', columns: ['sentAt', 'seq'] }],
});

export interface InboxRow {
  consumer: string;
  eventId: string;
  processedAt: Date;
}

/** (consumer, event id) pairs already applied: a redelivery finds its row and does nothing. */
export const InboxEntity = new EntitySchema<InboxRow>({
  name: 'Inbox',
  tableName: 'inbox',
  columns: {
    consumer: { type: 'varchar', length: 100, primary: true },
    eventId: { name: 'event_id', type: 'varchar', length: 40, primary: true },
    processedAt: { name: 'processed_at', type: 'datetime', precision: 3 },
  },
});

/** Tables every service with events needs in its migrations. */
export const eventTables = [OutboxEntity, InboxEntity];
