import { join } from 'node:path';
import type { Database } from './database.js';
import { migrate } from './migrate.js';
import { openPglite } from './pglite-driver.js';
import { openPostgres } from './postgres-driver.js';

export interface StoreOptions {
  /** postgres://... to use a Postgres server; otherwise the embedded database. */
  databaseUrl?: string | undefined;
  /** Where the embedded database keeps its files; null = in memory. */
  dataDir: string | null;
}

/** Opens the configured database as it is (no migrations). */
export async function openDatabase(options: StoreOptions): Promise<Database> {
  return options.databaseUrl
    ? openPostgres(options.databaseUrl)
    : openPglite(options.dataDir === null ? null : join(options.dataDir, 'pgdata'));
}

/** Opens the configured database and brings its schema up to date. */
export async function openStore(options: StoreOptions): Promise<Database> {
  const db = await openDatabase(options);
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
