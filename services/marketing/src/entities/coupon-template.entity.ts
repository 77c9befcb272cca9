import { EntitySchema } from 'typeorm';
import { bigintColumn } from '@membergraph/platform';

/** A kind of fixed-amount coupon from which coupons are issued; `code` is its stable name. */
export interface CouponTemplateRow {
  id: string;
  code: string;
  name: string;
  /** Discount in fen. */
  amount: number;
  validDays: number;
  issueOnRegistration: boolean;
  createdAt: Date;
}

export const CouponTemplateEntity = new EntitySchema<CouponTemplateRow>({
  name: 'CouponTemplate',
  tableName: 'coupon_template',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    code: { type: 'varchar', length: 32 },
    name: { type: 'varchar', length: 64 },
    amount: { type: 'bigint', transformer: bigintColumn },
    validDays: { name: 'valid_days', type: 'int' },
    issueOnRegistration: { name: 'issue_on_registration', type: 'boolean', default: false },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
  uniques: [{ name: 'uq_coupon_template_code', columns: ['code'] }],
});
