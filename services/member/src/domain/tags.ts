/**
 * A tag name as stored: Unicode NFKC, trimmed, lower-cased; 1-32 letters, digits, `_` or `-`
 * (analytics' rule tags look like `high_aov`, `prefers_coffee`). Null when not a valid name.
 */
export function normalizeTag(input: string): string | null {
  const tag = input.normalize('NFKC').trim().toLowerCase();
  return /^[\p{L}\p{N}_-]{1,32}$/u.test(tag) ? tag : null;
}

/** What must change to go from the tags a member has to `wanted`: names to add and to remove. */
export function tagDiff(current: readonly string[], wanted: readonly string[]): { add: string[]; remove: string[] } {
  const have = new Set(current);
  const want = new Set(wanted);
  return { add: [...want].filter((t) => !have.has(t)).sort(), remove: [...have].filter((t) => !want.has(t)).sort() };
}
