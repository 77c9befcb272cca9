import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyOrder, applyRegistration, emptyFacts, insightsOf, type MemberFacts, type OrderFact, type RegistrationFact } from '../../src/domain/facts';

const date = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true });
const order = fc.record({ amount: fc.integer({ min: 0, max: 10_000_000_00 }), completedAt: date });
const registration = fc.record({ channel: fc.constantFrom('STORE', 'WEB', 'APP'), registeredAt: date });

type Event = { kind: 'order'; fact: OrderFact } | { kind: 'registration'; fact: RegistrationFact };
const event: fc.Arbitrary<Event> = fc.oneof(
  { arbitrary: order.map((fact) => ({ kind: 'order' as const, fact })), weight: 4 },
  { arbitrary: registration.map((fact) => ({ kind: 'registration' as const, fact })), weight: 1 },
);
const fold = (events: Event[]): MemberFacts =>
  events.reduce((f, e) => (e.kind === 'order' ? applyOrder(f, e.fact) : applyRegistration(f, e.fact)), emptyFacts('M1'));

/** A list together with a permutation of it. */
const permuted = <T>(arb: fc.Arbitrary<T>) =>
  fc.array(arb, { maxLength: 30 }).chain((xs) => fc.tuple(fc.constant(xs), fc.shuffledSubarray(xs, { minLength: xs.length, maxLength: xs.length })));

describe('member facts', () => {
  it('start at zero with nothing known', () => {
    expect(insightsOf(emptyFacts('M1'))).toEqual({ orderCount: 0, totalSpend: 0, lastOrderAt: null, registeredAt: null });
  });

  it('count orders, sum their spend and track the first and last order', () => {
    const facts = fold([
      { kind: 'order', fact: { amount: 12850, completedAt: new Date('2026-03-02T10:00:00Z') } },
      { kind: 'order', fact: { amount: 150, completedAt: new Date('2026-03-01T10:00:00Z') } },
    ]);
    expect(facts).toMatchObject({ orderCount: 2, totalSpend: 13000 });
    expect(facts.firstOrderAt?.toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(facts.lastOrderAt?.toISOString()).toBe('2026-03-02T10:00:00.000Z');
  });

  it('accept an order before the registration it belongs to', () => {
    const facts = fold([
      { kind: 'order', fact: { amount: 500, completedAt: new Date('2026-03-02T10:00:00Z') } },
      { kind: 'registration', fact: { channel: 'APP', registeredAt: new Date('2026-03-01T09:00:00Z') } },
    ]);
    expect(facts).toMatchObject({ channel: 'APP', orderCount: 1, totalSpend: 500 });
    expect(facts.registeredAt?.toISOString()).toBe('2026-03-01T09:00:00.000Z');
  });

  it('never move lastOrderAt backwards for a late, older order', () => {
    const newer = applyOrder(emptyFacts('M1'), { amount: 1, completedAt: new Date('2026-03-02T00:00:00Z') });
    const after = applyOrder(newer, { amount: 1, completedAt: new Date('2026-01-01T00:00:00Z') });
    expect(after.lastOrderAt?.toISOString()).toBe('2026-03-02T00:00:00.000Z');
  });

  it('refuse a negative or fractional amount', () => {
    for (const amount of [-1, 0.5]) expect(() => applyOrder(emptyFacts('M1'), { amount, completedAt: new Date() })).toThrow(RangeError);
  });

  it('are the same whatever order the orders arrive in', () => {
    fc.assert(
      fc.property(permuted(order), ([orders, shuffled]) => {
        const a = orders.reduce(applyOrder, emptyFacts('M1'));
        const b = shuffled.reduce(applyOrder, emptyFacts('M1'));
        expect(b).toEqual(a);
        expect(a.orderCount).toBe(orders.length);
        expect(a.totalSpend).toBe(orders.reduce((s, o) => s + o.amount, 0));
        const times = orders.map((o) => o.completedAt.getTime());
        expect(a.lastOrderAt?.getTime() ?? null).toBe(times.length ? Math.max(...times) : null);
        expect(a.firstOrderAt?.getTime() ?? null).toBe(times.length ? Math.min(...times) : null);
      }),
    );
  });

  it('are the same whatever order registrations and orders arrive in', () => {
    fc.assert(
      fc.property(permuted(event), ([events, shuffled]) => {
        expect(fold(shuffled)).toEqual(fold(events));
      }),
    );
  });
});
