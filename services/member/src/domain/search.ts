/**
 * Names are encrypted, so they can only be found through a keyed blind index of a normalised form:
 * exact match on that form, never prefix or fuzzy (that would need the clear text). Normalised:
 * Unicode NFKC, trimmed, inner whitespace collapsed to one space, lower-cased; so "  li  LEI" finds
 * "Li Lei", and full-width letters find their ASCII twins.
 */
export function normalizeName(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase();
}
