/** At most `limit` events in any `windowMs`. */
export interface RateWindow {
  limit: number;
  windowMs: number;
}

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Whether one more event may happen at `now`, given the times of earlier events under the same key.
 * When refused, `retryAfterMs` is how long until every window has room again.
 */
export function throttle(past: readonly Date[], windows: readonly RateWindow[], now: Date): ThrottleDecision {
  const t = now.getTime();
  const newestFirst = past.map((d) => d.getTime()).filter((x) => x <= t).sort((a, b) => b - a);
  let wait = 0;
  for (const w of windows) {
    const inWindow = newestFirst.filter((x) => x > t - w.windowMs);
    if (inWindow.length < w.limit) continue;
    // The event that must leave the window before one more fits: the limit-th newest.
    const blocking = inWindow[w.limit - 1]!;
    wait = Math.max(wait, blocking + w.windowMs - t);
  }
  return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
}

/** The longest window: events older than this can never matter again. */
export function longestWindowMs(windows: readonly RateWindow[]): number {
  return Math.max(0, ...windows.map((w) => w.windowMs));
}

/** Whole seconds for a retry-after hint, never 0. */
export const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
