/**
 * Hand-written SQL for the lookup by phone (a hot path): there TypeORM's
 * query builders cost more CPU than the statement they build (measured in docs/benchmarks.md).
 * Column names and values still come from the entity metadata.
 */
import type { EntityManager, EntitySchema, ObjectLiteral } from 'typeorm';

/** Entity rows from a raw `SELECT *` of their table, hydrated as TypeORM's builder does (types, transformers). */
export function hydrate<T extends ObjectLiteral>(em: EntityManager, entity: EntitySchema<T>, raw: ReadonlyArray<Record<string, unknown>>): T[] {
  const meta = em.getRepository(entity).metadata;
  const { driver } = em.connection;
  return raw.map((r) => {
    const row = meta.create() as T;
    for (const c of meta.columns) c.setEntityValue(row, driver.prepareHydratedValue(r[c.databaseName], c));
    return row;
  });
}
