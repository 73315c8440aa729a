import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type Compilable, type RawBuilder } from 'kysely';
import type { Queryable } from './database.js';
import type { DB } from './schema.js';

/**
 * Kysely as a typed query compiler only: `qb` builds a query whose table and column names are checked
 * against the generated schema (schema.ts), Kysely's `sql` tag types raw SQL, and `rows`/`row` run the compiled text and parameters
 * through Warden's own Queryable. Kysely never holds a connection or a transaction, so both drivers,
 * `Database.transaction`, the caching database and the outage handling see the same calls as for
 * hand-written SQL. (Its DummyDriver makes `.execute()` return nothing: always use rows/row.)
 */
export const qb = new Kysely<DB>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

export type Query<O> = Compilable<O> | RawBuilder<O>;

const isRaw = <O>(query: Query<O>): query is RawBuilder<O> => 'isRawBuilder' in query && query.isRawBuilder === true;

/** Every row `query` returns, read through `q` (a database, or a transaction's handle). */
export async function rows<O>(q: Queryable, query: Query<O>): Promise<O[]> {
  const compiled = isRaw(query) ? query.compile(qb) : query.compile();
  return q.query<O>(compiled.sql, compiled.parameters);
}

/** The first row `query` returns, or undefined. */
export async function row<O>(q: Queryable, query: Query<O>): Promise<O | undefined> {
  return (await rows(q, query))[0];
}

export { sql } from 'kysely';
export type { Insertable, Selectable, Updateable } from 'kysely';

/**
 * A row type with some columns narrowed to what the domain keeps in them: a json column's document
 * (the schema types it `unknown`), a text column's allowed values. Each narrowed type must be a column
 * of T and fit its type, so renaming, dropping or retyping one still fails the type check.
 */
export type Narrow<T, N extends { [K in keyof N]: K extends keyof T ? T[K] : never }> = Omit<T, keyof N> & N;
