/** What staff provide to create a fixed-amount coupon template. */
export interface CouponTemplateInput {
  code: string;
  name: string;
  amount: number;
  validDays: number;
  issueOnRegistration?: boolean | null;
}

export interface InputProblem {
  field: keyof CouponTemplateInput;
  message: string;
}

export const TEMPLATE_CODE = /^[A-Z0-9_]{2,32}$/;
export const MAX_VALID_DAYS = 3650;
export const MAX_NAME_LENGTH = 64;

/** The first problem with a template input (name is judged after trimming), or null when it is valid. */
export function templateInputProblem(input: CouponTemplateInput): InputProblem | null {
  if (!TEMPLATE_CODE.test(input.code)) return { field: 'code', message: 'code must be 2-32 characters of A-Z, 0-9 and _' };
  const name = input.name.trim();
  if (name.length < 1 || name.length > MAX_NAME_LENGTH) return { field: 'name', message: `name must be 1 to ${MAX_NAME_LENGTH} characters` };
  if (!Number.isSafeInteger(input.amount) || input.amount <= 0) return { field: 'amount', message: 'amount must be a whole number of fen above 0' };
  if (!Number.isInteger(input.validDays) || input.validDays < 1 || input.validDays > MAX_VALID_DAYS) {
    return { field: 'validDays', message: `validDays must be between 1 and ${MAX_VALID_DAYS}` };
  }
  return null;
}
