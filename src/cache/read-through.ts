import type { Queryable } from '../store/database.js';
import type { CacheSpace } from './access-cache.js';
import { cacheOf } from './caching-database.js';

/**
 * Reads a fact through the node's access cache when `q` is the cached database itself, and straight
 * from the database otherwise (inside a transaction, or without a cache). The domain's lookups on
 * the hot path wrap their query in this; `tagsOf` names what the fact was read from.
 */
export function readThrough<T>(
  q: Queryable,
  space: CacheSpace,
  key: string,
  load: (stale?: T) => Promise<T>,
  tagsOf: (value: NonNullable<T>) => readonly string[],
  validUntil?: (value: NonNullable<T>) => number | null,
): Promise<T> {
  const cache = cacheOf(q);
  return cache ? cache.get(space, key, load, tagsOf, validUntil) : load();
}
