/**
 * The in-memory side of the authorization hot path: facts read from the database (a key by its hash,
 * an organization, a membership, a project and the caller's access to it, access-control rows, …)
 * kept until something they depend on changes.
 *
 * Each fact is stored with the tags of what it was read from (`key:<id>`, `user:<id>`, `org:<id>`,
 * `member:<id>`, `project:<id>`, `flags:<project id>`). The database names the tags of every change
 * (migration 0010's triggers); `invalidate` marks them, and a fact is served only while none of its
 * tags has been marked since its read began. That one rule also settles the race of a read that
 * overlaps a change: the fact it brings back is already stale and is never served.
 *
 * A node that cannot hear about changes (its notification connection is down) does not trust what it
 * holds: `distrust` makes every read go to the database until `resume`, which forgets everything.
 * A node that merely cannot prove it still hears (a silent connection) stops trusting when the last
 * proof runs out: `trustUntil` (set by the listener after each answered heartbeat) bounds how long
 * memory may be served without one.
 *
 * A fact built from time-bound grants (migration 0015) is worth nothing past the earliest expiry among
 * them: the loader's `validUntil` names it, and the fact is not served at or after that moment (no
 * change, and so no invalidation, happens when a grant simply runs out).
 */

/** The kinds of fact the cache holds, each in a space of its own. */
export const CACHE_SPACES = [
  'key',
  'session',
  'user',
  'organization',
  'membership',
  'project_access',
  'resource_actor',
  'access_rows',
  'project_token',
  'flags',
] as const;
export type CacheSpace = (typeof CACHE_SPACES)[number];

interface Entry {
  value: unknown;
  tags: readonly string[];
  /** The sequence number when the read that produced it began. */
  readAt: number;
  /** Date.now() from which it is no longer served (the earliest expiry of a grant it was built from). */
  until: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** Reads sent to the database because the cache was not trusted. */
  bypasses: number;
  invalidations: number;
  entries: number;
  trusted: boolean;
}

/** Tags marked since the last full flush; beyond this many, everything is forgotten instead. */
const MAX_MARKED_TAGS = 100_000;

export class AccessCache {
  private seq = 0;
  /** Facts read before this sequence number are never served (set by a flush). */
  private floor = 0;
  /** The sequence number at which each tag was last marked changed. */
  private readonly marked = new Map<string, number>();
  private readonly spaces = new Map<CacheSpace, Map<string, Entry>>();
  private readonly inFlight = new Map<string, { readAt: number; promise: Promise<unknown> }>();
  private trusted = true;
  /** performance.now() after which nothing is served from memory until the next proof (listener). */
  private provenUntil = Infinity;
  private invalidations = 0;
  private readonly perSpace = new Map<CacheSpace, { hits: number; misses: number; bypasses: number }>();

  /** @param maxEntriesPerSpace the oldest facts of a full space make room for new ones. */
  constructor(readonly maxEntriesPerSpace = 100_000) {
    for (const space of CACHE_SPACES) {
      this.spaces.set(space, new Map());
      this.perSpace.set(space, { hits: 0, misses: 0, bypasses: 0 });
    }
  }

  /**
   * The fact at (space, key): from memory when a valid copy is held, else from `load`, whose result
   * is kept (deep-frozen: callers share it) under the tags `tagsOf` gives. `undefined` (nothing
   * found) is never kept: something created later must be found at once. When the copy held has
   * gone stale, `load` is handed it, for a loader that can refresh only what changed (it must not
   * trust it: the database decides what changed). `validUntil` (optional) gives the moment (epoch
   * milliseconds) from which the fact may no longer be served; null = no such moment.
   */
  get<T>(
    space: CacheSpace,
    key: string,
    load: (stale?: T) => Promise<T>,
    tagsOf: (value: NonNullable<T>) => readonly string[],
    validUntil?: (value: NonNullable<T>) => number | null,
  ): Promise<T> {
    const counts = this.perSpace.get(space)!;
    if (!this.isTrusted) {
      counts.bypasses++;
      return load();
    }
    const entries = this.spaces.get(space)!;
    const entry = entries.get(key);
    // A hit is answered without an async function's frame: the hot path of every request.
    if (entry && this.isValid(entry)) {
      counts.hits++;
      return Promise.resolve(entry.value as T);
    }
    if (entry) entries.delete(key);
    counts.misses++;
    return this.miss(space, entries, key, entry?.value as T | undefined, load, tagsOf, validUntil);
  }

  private async miss<T>(
    space: CacheSpace,
    entries: Map<string, Entry>,
    key: string,
    stale: T | undefined,
    load: (stale?: T) => Promise<T>,
    tagsOf: (value: NonNullable<T>) => readonly string[],
    validUntil?: (value: NonNullable<T>) => number | null,
  ): Promise<T> {
    // Concurrent misses of one fact share a read, as long as nothing changed since it began.
    const flightKey = `${space}\u0000${key}`;
    const flying = this.inFlight.get(flightKey);
    if (flying && flying.readAt === this.seq) return flying.promise as Promise<T>;
    const readAt = this.seq;
    const promise = load(stale).then((value) => {
      if (value !== undefined && value !== null) {
        const until = validUntil?.(value as NonNullable<T>) ?? Infinity;
        this.store(entries, key, { value: deepFreeze(value), tags: tagsOf(value as NonNullable<T>), readAt, until });
      }
      return value;
    });
    this.inFlight.set(flightKey, { readAt, promise });
    try {
      return await promise;
    } finally {
      if (this.inFlight.get(flightKey)?.promise === promise) this.inFlight.delete(flightKey);
    }
  }

  /** Marks tags changed (`*`: everything). Separated by whitespace, as the database sends them. */
  invalidate(tags: string | readonly string[]): void {
    const list = typeof tags === 'string' ? tags.split(/\s+/).filter(Boolean) : tags;
    if (list.length === 0) return;
    this.invalidations += list.length;
    if (list.includes('*')) {
      this.flush();
      return;
    }
    const at = ++this.seq;
    for (const tag of list) this.marked.set(tag, at);
    if (this.marked.size > MAX_MARKED_TAGS) this.flush();
  }

  /** Forgets everything. */
  flush(): void {
    this.floor = ++this.seq;
    this.marked.clear();
    for (const entries of this.spaces.values()) entries.clear();
  }

  /** Stop serving from memory: changes may be going unheard. */
  distrust(): void {
    this.trusted = false;
    this.flush();
  }

  /** Changes are heard again: start from nothing, then serve from memory. */
  resume(): void {
    this.flush();
    this.trusted = true;
  }

  /**
   * Everything changed before some moment has been heard, and that moment is recent: memory may be
   * served until `at` (a performance.now() time), and not after unless proven again. Facts stay held
   * meanwhile: the invalidations still arriving on the same connection keep marking them.
   */
  trustUntil(at: number): void {
    this.provenUntil = at;
  }

  get isTrusted(): boolean {
    return this.trusted && performance.now() <= this.provenUntil;
  }

  stats(): CacheStats {
    const totals = { hits: 0, misses: 0, bypasses: 0, entries: 0 };
    for (const [space, counts] of this.perSpace) {
      totals.hits += counts.hits;
      totals.misses += counts.misses;
      totals.bypasses += counts.bypasses;
      totals.entries += this.spaces.get(space)!.size;
    }
    return { ...totals, invalidations: this.invalidations, trusted: this.isTrusted };
  }

  statsBySpace(): ReadonlyMap<CacheSpace, { hits: number; misses: number; bypasses: number }> {
    return this.perSpace;
  }

  private isValid(entry: Entry): boolean {
    if (entry.readAt < this.floor) return false;
    if (entry.until !== Infinity && Date.now() >= entry.until) return false;
    // Nothing marked since it was read (the steady state between writes): no tag to look up.
    if (entry.readAt === this.seq) return true;
    for (const tag of entry.tags) {
      const at = this.marked.get(tag);
      if (at !== undefined && at > entry.readAt) return false;
    }
    return true;
  }

  private store(entries: Map<string, Entry>, key: string, entry: Entry): void {
    if (!this.isTrusted || !this.isValid(entry)) return;
    if (entries.size >= this.maxEntriesPerSpace && !entries.has(key)) {
      const oldest = entries.keys().next();
      if (!oldest.done) entries.delete(oldest.value);
    }
    entries.set(key, entry);
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value) && !ArrayBuffer.isView(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value as Record<string, unknown>)) deepFreeze(inner);
  }
  return value;
}
