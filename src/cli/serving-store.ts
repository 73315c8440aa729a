/**
 * The store of a serving node (`warden serve`, and the test servers that stand in for it): the
 * database brought up to date, with the authorization hot path served from memory (src/cache/).
 * This is where the cache is wired over the store, so that src/store/ knows nothing of src/cache/.
 */
import { AccessCache } from '../cache/access-cache.js';
import { withAccessCache } from '../cache/caching-database.js';
import { listenForInvalidations, type ListenerOptions } from '../cache/invalidation-listener.js';
import type { WardenConfig } from '../config.js';
import type { Database } from '../store/database.js';
import { openStore, type StoreOptions } from '../store/open.js';

export interface ServingStoreOptions extends StoreOptions {
  /**
   * Serve the authorization hot path from memory: what `warden serve` does. On Postgres the node
   * also listens for other nodes' changes. Commands that run once go without.
   */
  cache?: boolean | { maxEntriesPerSpace?: number; listener?: ListenerOptions };
}

/** Opens the configured database, brings its schema up to date and, when asked, puts the access cache over it. */
export async function openServingStore(options: ServingStoreOptions): Promise<Database> {
  const db = await openStore(options);
  if (!options.cache) return db;
  try {
    return await cached(db, options);
  } catch (err) {
    await db.close();
    throw err;
  }
}

async function cached(db: Database, options: ServingStoreOptions): Promise<Database> {
  const settings = typeof options.cache === 'object' ? options.cache : {};
  const cache = new AccessCache(settings.maxEntriesPerSpace);
  // The embedded database has one process: every change goes through this node and is seen at commit.
  if (!options.databaseUrl) return withAccessCache(db, cache);
  const listener = await listenForInvalidations(options.databaseUrl, cache, settings.listener);
  return withAccessCache(db, cache, () => listener.stop());
}

/** The cache settings of a serving node, from its configuration. */
export function servingCache(config: Pick<WardenConfig, 'accessCache' | 'cacheMaxEntries'>): ServingStoreOptions['cache'] {
  if (!config.accessCache) return false;
  return {
    maxEntriesPerSpace: config.cacheMaxEntries,
    listener: {
      onStateChange: (state, err) => {
        if (state === 'lost')
          process.emitWarning(`Cache invalidation connection lost (${err?.message ?? 'closed'}); reading from the database until it is back`);
      },
    },
  };
}
