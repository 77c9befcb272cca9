import { EntitySchema } from 'typeorm';

/** A message the local provider "sent": encrypted under its own wrapped data key, found by a blind index of the recipient. */
export interface SentMessageRow {
  id: string;
  channel: string;
  toIndex: string;
  toEnc: string;
  bodyEnc: string;
  dataKey: string;
  sentAt: Date;
}

export const SentMessageEntity = new EntitySchema<SentMessageRow>({
  name: 'SentMessage',
  tableName: 'sent_message',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    channel: { type: 'varchar', length: 10 },
    toIndex: { name: 'to_index', type: 'char', length: 64 },
    toEnc: { name: 'to_enc', type: 'varchar', length: 1024 },
    bodyEnc: { name: 'body_enc', type: 'text' },
    dataKey: { name: 'data_key', type: 'varchar', length: 255 },
    sentAt: { name: 'sent_at', type: 'datetime', precision: 3 },
  },
  indices: [{ name: 'idx_sent_message_to', columns: ['toIndex', 'id'] }],
});
