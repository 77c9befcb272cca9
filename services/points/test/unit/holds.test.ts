import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HoldStatus, decideResolution, holdExpiresAt, type HoldAction } from '../../src/domain/holds';

const now = new Date('2026-05-01T10:00:00Z');
const later = new Date('2026-05-01T10:15:00Z');

describe('decideResolution', () => {
  it('captures or releases a HELD hold', () => {
    expect(decideResolution(HoldStatus.HELD, 'CAPTURE', later, now)).toEqual({ kind: 'apply', to: 'CAPTURED' });
    expect(decideResolution(HoldStatus.HELD, 'RELEASE', later, now)).toEqual({ kind: 'apply', to: 'RELEASED' });
  });

  it('repeats the first answer for the same resolution and refuses the other', () => {
    expect(decideResolution(HoldStatus.CAPTURED, 'CAPTURE', later, now).kind).toBe('replay');
    expect(decideResolution(HoldStatus.RELEASED, 'RELEASE', later, now).kind).toBe('replay');
    expect(decideResolution(HoldStatus.EXPIRED, 'RELEASE', later, now).kind).toBe('replay');
    expect(decideResolution(HoldStatus.CAPTURED, 'RELEASE', later, now).kind).toBe('conflict');
    expect(decideResolution(HoldStatus.RELEASED, 'CAPTURE', later, now).kind).toBe('conflict');
    expect(decideResolution(HoldStatus.EXPIRED, 'CAPTURE', later, now).kind).toBe('conflict');
  });

  it('cannot capture a hold past its expiry that the sweeper has not reached, but can release it', () => {
    expect(decideResolution(HoldStatus.HELD, 'CAPTURE', now, now).kind).toBe('conflict');
    expect(decideResolution(HoldStatus.HELD, 'RELEASE', now, now)).toEqual({ kind: 'apply', to: 'RELEASED' });
  });

  it('resolves a hold at most once whatever the sequence of requests', () => {
    const action = fc.constantFrom<HoldAction>('CAPTURE', 'RELEASE');
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 10 }), (actions) => {
        let status: HoldStatus = HoldStatus.HELD;
        let applied = 0;
        for (const a of actions) {
          const d = decideResolution(status, a, later, now);
          if (d.kind === 'apply') {
            status = d.to;
            applied++;
          } else if (d.kind === 'replay') {
            expect(status).toBe(a === 'CAPTURE' ? 'CAPTURED' : 'RELEASED');
          }
        }
        expect(applied).toBe(1);
      }),
    );
  });
});

describe('holdExpiresAt', () => {
  it('adds the ttl in seconds and refuses a non-positive one', () => {
    expect(holdExpiresAt(now, 900).toISOString()).toBe('2026-05-01T10:15:00.000Z');
    expect(() => holdExpiresAt(now, 0)).toThrow(RangeError);
  });
});
