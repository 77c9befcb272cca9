import { describe, expect, it } from 'vitest';
import { templateInputProblem, type CouponTemplateInput } from '../../src/domain/coupon-template';

const valid: CouponTemplateInput = { code: 'SPRING_10', name: 'Spring ten', amount: 1000, validDays: 30, issueOnRegistration: false };
const problemField = (patch: Partial<CouponTemplateInput>) => templateInputProblem({ ...valid, ...patch })?.field ?? null;

describe('templateInputProblem', () => {
  it('accepts a valid template, including the edges of every range', () => {
    expect(problemField({})).toBeNull();
    expect(problemField({ code: 'AB', name: 'x', amount: 1, validDays: 1 })).toBeNull();
    expect(problemField({ code: 'A'.repeat(32), name: 'x'.repeat(64), validDays: 3650 })).toBeNull();
  });

  it('wants codes of 2-32 upper-case letters, digits and _', () => {
    for (const code of ['A', 'A'.repeat(33), 'spring', 'SPRING-10', 'SPRING 10', '', 'ÄB']) expect(problemField({ code })).toBe('code');
  });

  it('wants a name of 1-64 characters after trimming', () => {
    for (const name of ['', '   ', 'x'.repeat(65)]) expect(problemField({ name })).toBe('name');
    expect(problemField({ name: `  ${'x'.repeat(64)}  ` })).toBeNull();
  });

  it('wants a positive whole amount of fen', () => {
    for (const amount of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1]) expect(problemField({ amount })).toBe('amount');
  });

  it('wants 1-3650 whole days of validity', () => {
    for (const validDays of [0, -5, 3651, 2.5]) expect(problemField({ validDays })).toBe('validDays');
  });
});
