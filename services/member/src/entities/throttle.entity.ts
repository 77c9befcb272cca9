import { EntitySchema } from 'typeorm';

/**
 * One row per throttle key (keyed hashes, never the phone, username or IP itself). Locking it
 * FOR UPDATE serialises concurrent requests under one key, so aliases and batches in a single
 * HTTP request cannot all pass the check before any of them is counted.
 */
export interface ThrottleLockRow {
  key: string;
}

export const ThrottleLockEntity = new EntitySchema<ThrottleLockRow>({
  name: 'ThrottleLock',
  tableName: 'throttle_lock',
  columns: {
    key: { type: 'char', length: 64, primary: true },
  },
});

/** A counted event under a throttle key (a staff login attempt not yet proven good). */
export interface ThrottleEventRow {
  id: string;
  key: string;
  at: Date;
}

export const ThrottleEventEntity = new EntitySchema<ThrottleEventRow>({
  name: 'ThrottleEvent',
  tableName: 'throttle_event',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    key: { type: 'char', length: 64 },
    at: { type: 'datetime', precision: 3 },
  },
  indices: [{ name: 'idx_throttle_event_key', columns: ['key', 'at'] }],
});
