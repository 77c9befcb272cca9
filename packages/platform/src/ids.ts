import { monotonicFactory } from 'ulid';

const next = monotonicFactory();

/** A new sortable id (ULID): time-ordered, so it doubles as a stable pagination key. */
export function newId(): string {
  return next();
}
