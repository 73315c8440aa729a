import type { Database, Queryable } from '../store/database.js';
import { WATCHED_TABLES as WATCHED_BY_0010 } from '../store/migrations/0010_cache_invalidation.js';
import { WATCHED_BY_SIGN_IN_SECURITY } from '../store/migrations/0013_sign_in_security.js';
import { WATCHED_BY_TIME_BOUND_GRANTS } from '../store/migrations/0015_time_bound_grants.js';

const WATCHED_TABLES: ReadonlySet<string> = new Set([...WATCHED_BY_0010, ...WATCHED_BY_SIGN_IN_SECURITY, ...WATCHED_BY_TIME_BOUND_GRANTS]);
import type { AccessCache } from './access-cache.js';

/**
 * A database whose writes make its node's access cache forget, at once: the tags the triggers of
 * migration 0010 collected in the transaction are read just before COMMIT and invalidated right
 * after it, before the caller (and so the client) hears that the write succeeded. Other nodes hear
 * of the same change through LISTEN/NOTIFY (invalidation-listener.ts).
 *
 * Reads through this object are the ones the cache may answer (see readThrough); reads inside a
 * transaction always see the transaction.
 */
const caches = new WeakMap<Queryable, AccessCache>();

/** The access cache behind a database handle; none for a transaction's handle or an uncached database. */
export function cacheOf(q: Queryable): AccessCache | undefined {
  return caches.get(q);
}

const PENDING_INVALIDATIONS = "SELECT current_setting('warden.invalidated', true) AS tags";
/** The target of a plain INSERT, UPDATE or DELETE, its name quoted or not (Kysely quotes it). */
const DIRECT_WRITE = /^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?/i;

/**
 * Must a statement sent outside a transaction run in one of its own, so that its invalidations can
 * be read before it commits? Yes unless it plainly reads, or plainly writes a table no cached fact
 * comes from (events, rate-limit counters, …); anything else (CTEs, scripts) is treated as a write.
 */
export function mayInvalidate(text: string): boolean {
  const target = DIRECT_WRITE.exec(text);
  if (target) return WATCHED_TABLES.has(target[1]!.toLowerCase());
  return !(/^\s*SELECT\b/i.test(text) && !/\b(?:INSERT|UPDATE|DELETE)\b/i.test(text));
}

export function withAccessCache(inner: Database, cache: AccessCache, beforeClose?: () => Promise<void>): Database {
  async function transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    let tags: string | null = null;
    const value = await inner.transaction(async (tx) => {
      const result = await fn(tx);
      tags = (await tx.query<{ tags: string | null }>(PENDING_INVALIDATIONS))[0]?.tags ?? null;
      return result;
    });
    if (tags) cache.invalidate(tags);
    return value;
  }
  const db: Database = {
    kind: inner.kind,
    query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]> {
      return mayInvalidate(text) ? transaction((tx) => tx.query<Row>(text, params)) : inner.query<Row>(text, params);
    },
    exec: (script) => transaction((tx) => tx.exec(script)),
    transaction,
    // Only migrations hold the lock (schema, not facts); forget everything afterwards all the same.
    async withAdvisoryLock(key, fn) {
      try {
        return await inner.withAdvisoryLock(key, fn);
      } finally {
        cache.flush();
      }
    },
    ping: (timeoutMs) => inner.ping(timeoutMs),
    ...(inner.poolStats ? { poolStats: () => inner.poolStats!() } : {}),
    async close() {
      await beforeClose?.();
      await inner.close();
    },
  };
  caches.set(db, cache);
  return db;
}
