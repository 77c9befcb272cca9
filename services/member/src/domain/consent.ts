/** Purposes and channels a consent is given for (the contract's enums, as sets). */
export const CONSENT_PURPOSES = ['MARKETING', 'ANALYTICS', 'PERSONALIZATION', 'THIRD_PARTY_SHARING'] as const;
export const CONSENT_CHANNELS = ['SMS', 'EMAIL', 'PUSH', 'WECHAT'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

export interface ConsentDecision {
  purpose: ConsentPurpose;
  channel: ConsentChannel;
  granted: boolean;
  policyVersion: string;
}

/** A recorded decision (newest wins per purpose and channel); ids are time-ordered. */
export interface RecordedConsent {
  id: string;
  purpose: string;
  channel: string;
  granted: boolean;
  policyVersion: string;
}

const keyOf = (c: { purpose: string; channel: string }) => `${c.purpose}/${c.channel}`;

/** The first problem of a consent request (`{ index, field, message }`), or null. At most one decision per purpose and channel. */
export function consentsProblem(consents: ReadonlyArray<{ purpose: string; channel: string; policyVersion: string }>): { index: number | null; field: string; message: string } | null {
  if (consents.length < 1 || consents.length > CONSENT_PURPOSES.length * CONSENT_CHANNELS.length) {
    return { index: null, field: 'consents', message: `give 1 to ${CONSENT_PURPOSES.length * CONSENT_CHANNELS.length} consents` };
  }
  const seen = new Set<string>();
  for (const [index, c] of consents.entries()) {
    if (!(CONSENT_PURPOSES as readonly string[]).includes(c.purpose)) return { index, field: 'purpose', message: `unknown purpose ${c.purpose}` };
    if (!(CONSENT_CHANNELS as readonly string[]).includes(c.channel)) return { index, field: 'channel', message: `unknown channel ${c.channel}` };
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(c.policyVersion)) return { index, field: 'policyVersion', message: 'policyVersion must be 1-32 letters, digits, dot, dash or underscore' };
    if (seen.has(keyOf(c))) return { index, field: 'channel', message: `${c.purpose} by ${c.channel} is given twice` };
    seen.add(keyOf(c));
  }
  return null;
}

/** The current decision per purpose and channel: the newest recorded one. */
export function currentConsents<T extends RecordedConsent>(history: readonly T[]): T[] {
  const latest = new Map<string, T>();
  for (const row of history) {
    const prev = latest.get(keyOf(row));
    if (!prev || row.id > prev.id) latest.set(keyOf(row), row);
  }
  return [...latest.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

/** The requested decisions that change something (granted or policy version differ from the current one, or none yet). */
export function consentChanges(current: ReadonlyArray<Omit<RecordedConsent, 'id'>>, requested: readonly ConsentDecision[]): ConsentDecision[] {
  const now = new Map(current.map((c) => [keyOf(c), c]));
  return requested.filter((r) => {
    const c = now.get(keyOf(r));
    return !c || c.granted !== r.granted || c.policyVersion !== r.policyVersion;
  });
}
