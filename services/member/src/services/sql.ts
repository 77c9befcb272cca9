/**
 * Hand-written SQL for the hot paths (registration, import, lookup by phone): there TypeORM's
 * query builders cost more CPU than the statement they build (measured in docs/benchmarks.md).
 * Column names and values still come from the entity metadata.
 */
import type { EntityManager, EntitySchema, ObjectLiteral } from 'typeorm';
import { enqueueEvents, type NewEvent } from '@membergraph/platform';

/**
 * One multi-row INSERT of whole entity rows: TypeORM's insert builder is quadratic in the number of
 * parameters (measured: about 0.5 s of CPU for a 1,000-member batch, more than the encryption).
 */
export async function insertMany<T extends ObjectLiteral>(em: EntityManager, entity: EntitySchema<T>, rows: readonly T[]): Promise<void> {
  if (!rows.length) return;
  const meta = em.getRepository(entity).metadata;
  const columns = meta.columns;
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const params = rows.flatMap((row) => columns.map((c) => c.getEntityValue(row) ?? null));
  await em.query(
    `INSERT INTO \`${meta.tableName}\` (${columns.map((c) => `\`${c.databaseName}\``).join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}`,
    params,
  );
}

/** Outbox rows per INSERT: the kit's insert goes through TypeORM's builder, and smaller statements keep it linear. */
const OUTBOX_CHUNK = 200;

/** Writes events to the outbox in the caller's transaction, in as few INSERTs as the builder allows. */
export async function enqueueAll(em: EntityManager, events: ReadonlyArray<NewEvent<unknown>>): Promise<void> {
  for (let i = 0; i < events.length; i += OUTBOX_CHUNK) await enqueueEvents(em, events.slice(i, i + OUTBOX_CHUNK));
}

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
