import { badInput } from '../errors';

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: PageInfo;
}

export const MAX_PAGE_SIZE = 100;

/** Validates `first` (1..MAX_PAGE_SIZE). */
export function pageSize(first: number | null | undefined, fallback = 20): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE}`);
  return n;
}

/** Opaque cursor for a sortable key (an id). */
export function encodeCursor(key: string): string {
  return Buffer.from(`c:${key}`, 'utf8').toString('base64url');
}

/** The key inside a cursor, or BAD_USER_INPUT. */
export function decodeCursor(cursor: string | null | undefined): string | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!raw.startsWith('c:') || raw.length < 3) throw badInput('after is not a valid cursor');
  return raw.slice(2);
}

/**
 * Builds a connection from rows fetched with `LIMIT first + 1` in key order: the extra row only
 * tells whether another page follows.
 */
export function toConnection<T>(rows: T[], first: number, keyOf: (row: T) => string): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
}
