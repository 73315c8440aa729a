import { join } from 'node:path';
import type { WardenConfig } from '../config.js';
import { lockDataDir } from './data-dir-lock.js';
import type { Database } from './database.js';
import { migrate } from './migrate.js';
import { openPglite } from './pglite-driver.js';
import { openPostgres, type PostgresSettings } from './postgres-driver.js';

export interface StoreOptions {
  /** postgres://... to use a Postgres server; otherwise the embedded database. */
  databaseUrl?: string | undefined;
  /** Where the embedded database keeps its files; null = in memory. */
  dataDir: string | null;
  /** Postgres timeouts (defaults: DEFAULT_POSTGRES_SETTINGS). */
  postgres?: Partial<PostgresSettings>;
}

/** The store options of a configuration: where the database is and how long to wait for it. */
export function storeOptions(config: Pick<WardenConfig, 'databaseUrl' | 'dataDir' | 'dbConnectTimeoutMs' | 'dbStatementTimeoutMs'>) {
  return {
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    postgres: { connectTimeoutMs: config.dbConnectTimeoutMs, statementTimeoutMs: config.dbStatementTimeoutMs },
  } satisfies StoreOptions;
}

/**
 * Opens the configured database as it is (no migrations). An embedded data directory is locked
 * for this process until the database is closed (data-dir-lock.ts): a second opener is refused.
 */
export async function openDatabase(options: StoreOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.postgres);
  if (options.dataDir === null) return openPglite(null);
  const release = lockDataDir(options.dataDir);
  try {
    const db = await openPglite(join(options.dataDir, 'pgdata'));
    return {
      ...db,
      async close() {
        try {
          await db.close();
        } finally {
          release();
        }
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * Opens the configured database and brings its schema up to date. A serving node puts the access
 * cache over it (src/cli/serving-store.ts): the store knows nothing of the cache.
 */
export async function openStore(options: StoreOptions): Promise<Database> {
  const db = await openDatabase(options);
  try {
    await migrate(db);
    return db;
  } catch (err) {
    await db.close();
    throw err;
  }
}
