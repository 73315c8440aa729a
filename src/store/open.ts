import { join } from 'node:path';
import { AccessCache } from '../cache/access-cache.js';
import { withAccessCache } from '../cache/caching-database.js';
import { listenForInvalidations, type ListenerOptions } from '../cache/invalidation-listener.js';
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
  /**
   * Serve the authorization hot path from memory (src/cache/): what `warden serve` does. On
   * Postgres the node also listens for other nodes' changes. Commands that run once go without.
   */
  cache?: boolean | { maxEntriesPerSpace?: number; listener?: ListenerOptions };
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

/** Opens the configured database and brings its schema up to date. */
export async function openStore(options: StoreOptions): Promise<Database> {
  const db = await openDatabase(options);
  try {
    await migrate(db);
    return options.cache ? await cached(db, options) : db;
  } catch (err) {
    await db.close();
    throw err;
  }
}

async function cached(db: Database, options: StoreOptions): Promise<Database> {
  const settings = typeof options.cache === 'object' ? options.cache : {};
  const cache = new AccessCache(settings.maxEntriesPerSpace);
  // The embedded database has one process: every change goes through this node and is seen at commit.
  if (!options.databaseUrl) return withAccessCache(db, cache);
  const listener = await listenForInvalidations(options.databaseUrl, cache, settings.listener);
  return withAccessCache(db, cache, () => listener.stop());
}

/** The cache settings of a serving node, from its configuration. */
export function servingCache(config: Pick<WardenConfig, 'accessCache' | 'cacheMaxEntries'>): StoreOptions['cache'] {
  if (!config.accessCache) return false;
  return {
    maxEntriesPerSpace: config.cacheMaxEntries,
    listener: {
      onStateChange: (state, err) => {
        if (state === 'lost') process.emitWarning(`Cache invalidation connection lost (${err?.message ?? 'closed'}); reading from the database until it is back`);
      },
    },
  };
}
