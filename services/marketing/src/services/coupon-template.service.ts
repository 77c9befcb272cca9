import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { affectedRows, badField, conflict, isDuplicateKey, newId, type ServiceKit } from '@membergraph/platform';
import type { MarketingConfig } from '../config';
import { CouponTemplateEntity, type CouponTemplateRow } from '../entities/coupon-template.entity';
import { templateInputProblem, type CouponTemplateInput } from '../domain/coupon-template';

export const WELCOME_TEMPLATE_CODE = 'WELCOME';

const duplicateCode = (code: string) => conflict(`A coupon template with code ${code} already exists`, { field: 'code' });

/** Creates a fixed-amount template; an invalid input is BAD_USER_INPUT, a code in use is CONFLICT. */
export async function createCouponTemplate(em: EntityManager, input: CouponTemplateInput, now = new Date()): Promise<CouponTemplateRow> {
  const problem = templateInputProblem(input);
  if (problem) throw badField(problem.field, problem.message);
  const templates = em.getRepository(CouponTemplateEntity);
  if (await templates.existsBy({ code: input.code })) throw duplicateCode(input.code);
  const row: CouponTemplateRow = {
    id: newId(),
    code: input.code,
    name: input.name.trim(),
    amount: input.amount,
    validDays: input.validDays,
    issueOnRegistration: input.issueOnRegistration ?? false,
    createdAt: now,
  };
  try {
    await templates.insert(row);
  } catch (err) {
    // Two creations of one code raced past the check: the unique index decides.
    if (isDuplicateKey(err)) throw duplicateCode(input.code);
    throw err;
  }
  return row;
}

/** Every template, oldest first. */
export function listCouponTemplates(em: EntityManager): Promise<CouponTemplateRow[]> {
  return em.getRepository(CouponTemplateEntity).find({ order: { id: 'ASC' } });
}

/** Templates every newly registered member receives a coupon from. */
export function registrationTemplates(em: EntityManager): Promise<CouponTemplateRow[]> {
  return em.getRepository(CouponTemplateEntity).find({ where: { issueOnRegistration: true }, order: { id: 'ASC' } });
}

/** The template a reference names: its id, else its code (operators configure rewards with either); null if none. */
export async function templateByIdOrCode(em: EntityManager, ref: string): Promise<CouponTemplateRow | null> {
  const templates = em.getRepository(CouponTemplateEntity);
  return (await templates.findOneBy({ id: ref })) ?? (await templates.findOneBy({ code: ref }));
}

/** Templates by id, in the order asked (missing ones as null): the batch function of the template loader. */
export async function templatesByIds(em: EntityManager, ids: readonly string[]): Promise<Array<CouponTemplateRow | null>> {
  const rows = await em.getRepository(CouponTemplateEntity).findBy({ id: In([...ids]) });
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}

/**
 * Seeds the WELCOME template from config when it does not exist. Later changes of the settings do
 * not touch an existing template: once seeded, it is operators' data.
 */
export async function seedWelcomeTemplate(kit: ServiceKit<MarketingConfig>): Promise<boolean> {
  // Raw SQL: on mariadb TypeORM's insert builder answers with RETURNING rows, not affectedRows.
  const result = await kit.ds.query(
    'INSERT IGNORE INTO coupon_template (id, code, name, amount, valid_days, issue_on_registration, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [newId(), WELCOME_TEMPLATE_CODE, 'Welcome coupon', kit.config.WELCOME_COUPON_AMOUNT, kit.config.WELCOME_COUPON_VALID_DAYS, true, new Date()],
  );
  return affectedRows(result) > 0;
}
