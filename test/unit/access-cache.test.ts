import { describe, expect, it } from 'vitest';
import { AccessCache } from '../../src/cache/access-cache.js';
import { mayInvalidate } from '../../src/cache/caching-database.js';

/** A load whose answer the test releases when it wants, counting how often it ran. */
function controlledLoad<T>(value: T) {
  const calls: Array<(v: T) => void> = [];
  return {
    load: () => new Promise<T>((resolve) => calls.push(resolve)),
    get calls() {
      return calls.length;
    },
    release: (i = calls.length - 1) => calls[i]!(value),
  };
}
const counting = <T>(value: () => T) => {
  let calls = 0;
  return {
    load: async () => {
      calls++;
      return value();
    },
    get calls() {
      return calls;
    },
  };
};
const tags = () => ['user:1'];

describe('AccessCache', () => {
  it('never serves a fact at or after the "valid until" its loader gave (a time-bound grant ran out)', async () => {
    const cache = new AccessCache();
    let until = Date.now() + 80;
    const source = counting(() => ({ level: 8 }));
    const read = () =>
      cache.get(
        'membership',
        'o:1',
        source.load,
        () => ['org:o'],
        () => until,
      );
    await read();
    await read();
    expect(source.calls).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    until = Date.now() + 60_000;
    await read();
    expect(source.calls).toBe(2);
    await read();
    expect(source.calls).toBe(2);
  });

  it('keeps a fact until one of its tags is invalidated', async () => {
    const cache = new AccessCache();
    const source = counting(() => ({ level: 8 }));
    expect(await cache.get('membership', 'o:1', source.load, () => ['org:o'])).toEqual({ level: 8 });
    await cache.get('membership', 'o:1', source.load, () => ['org:o']);
    expect(source.calls).toBe(1);
    cache.invalidate('org:other user:1');
    await cache.get('membership', 'o:1', source.load, () => ['org:o']);
    expect(source.calls).toBe(1);
    cache.invalidate(' org:o ');
    await cache.get('membership', 'o:1', source.load, () => ['org:o']);
    expect(source.calls).toBe(2);
  });

  it('never keeps what a read brought back when a change to it landed while it was reading', async () => {
    const cache = new AccessCache();
    const first = controlledLoad({ active: true });
    const pending = cache.get('user', '1', first.load, tags);
    cache.invalidate('user:1'); // the change commits while the read is in flight
    first.release();
    expect(await pending).toEqual({ active: true }); // that caller raced the change: it gets what it read
    const second = counting(() => ({ active: false }));
    expect(await cache.get('user', '1', second.load, tags)).toEqual({ active: false });
    expect(second.calls).toBe(1);
  });

  it('shares one read among concurrent misses, but not with a caller that came after a change', async () => {
    const cache = new AccessCache();
    const source = controlledLoad({ n: 1 });
    const a = cache.get('user', '1', source.load, tags);
    const b = cache.get('user', '1', source.load, tags);
    expect(source.calls).toBe(1);
    cache.invalidate('user:9');
    const c = cache.get('user', '1', source.load, tags);
    expect(source.calls).toBe(2);
    source.release(0);
    source.release(1);
    await Promise.all([a, b, c]);
  });

  it('keeps no answer of "nothing found": a thing created later is found at once', async () => {
    const cache = new AccessCache();
    let row: { id: number } | undefined;
    const source = counting(() => row);
    expect(await cache.get('key', 'h', source.load, () => ['key:1'])).toBeUndefined();
    row = { id: 1 };
    expect(await cache.get('key', 'h', source.load, () => ['key:1'])).toEqual({ id: 1 });
    expect(source.calls).toBe(2);
  });

  it('reads from the database while distrusted, and starts from nothing when it resumes', async () => {
    const cache = new AccessCache();
    const source = counting(() => ({ v: 1 }));
    await cache.get('user', '1', source.load, tags);
    cache.distrust();
    await cache.get('user', '1', source.load, tags);
    await cache.get('user', '1', source.load, tags);
    expect(source.calls).toBe(3);
    expect(cache.stats().bypasses).toBe(2);
    expect(cache.stats().entries).toBe(0);
    cache.resume();
    await cache.get('user', '1', source.load, tags);
    await cache.get('user', '1', source.load, tags);
    expect(source.calls).toBe(4);
  });

  it('forgets everything on `*`', async () => {
    const cache = new AccessCache();
    const source = counting(() => ({ v: 1 }));
    await cache.get('organization', 'a', source.load, () => ['org:a']);
    await cache.get('user', '1', source.load, tags);
    cache.invalidate('*');
    expect(cache.stats().entries).toBe(0);
    await cache.get('organization', 'a', source.load, () => ['org:a']);
    expect(source.calls).toBe(3);
  });

  it('holds at most its bound per kind of fact, dropping the oldest', async () => {
    const cache = new AccessCache(100);
    const source = counting(() => ({ v: 1 }));
    for (let i = 0; i < 150; i++) await cache.get('user', String(i), source.load, () => [`user:${i}`]);
    expect(cache.stats().entries).toBe(100);
    await cache.get('user', '149', source.load, () => ['user:149']);
    expect(source.calls).toBe(150);
    await cache.get('user', '0', source.load, () => ['user:0']);
    expect(source.calls).toBe(151);
  });

  it('serves memory only until the last proof of hearing runs out, keeping what it holds for the next proof', async () => {
    const cache = new AccessCache();
    const source = counting(() => ({ v: 1 }));
    cache.trustUntil(performance.now() + 60_000);
    await cache.get('user', '1', source.load, tags);
    await cache.get('user', '1', source.load, tags);
    expect(source.calls).toBe(1);
    cache.trustUntil(performance.now() - 1);
    expect(cache.isTrusted).toBe(false);
    await cache.get('user', '1', source.load, tags);
    expect(source.calls).toBe(2);
    expect(cache.stats()).toMatchObject({ trusted: false, bypasses: 1 });
    // Invalidations heard meanwhile still count once trust is proven again.
    cache.invalidate('user:1');
    cache.trustUntil(performance.now() + 60_000);
    await cache.get('user', '1', source.load, tags);
    await cache.get('user', '1', source.load, tags);
    expect(source.calls).toBe(3);
  });

  it('hands a loader the stale copy a change made it drop', async () => {
    const cache = new AccessCache();
    const seen: Array<unknown> = [];
    const load = async (stale?: { v: number }) => {
      seen.push(stale);
      return { v: (stale?.v ?? 0) + 1 };
    };
    expect(await cache.get('flags', '1', load, () => ['flags:1'])).toEqual({ v: 1 });
    cache.invalidate('flags:1');
    expect(await cache.get('flags', '1', load, () => ['flags:1'])).toEqual({ v: 2 });
    expect(seen).toEqual([undefined, { v: 1 }]);
  });

  it('hands out frozen facts, so no caller can change what others are served', async () => {
    const cache = new AccessCache();
    const value = await cache.get('user', '1', async () => ({ scopes: ['a'], nested: { x: 1 } }), tags);
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.scopes)).toBe(true);
    expect(() => (value.scopes as string[]).push('b')).toThrow(TypeError);
  });
});

describe('which statements outside a transaction must report their invalidations', () => {
  it('plain reads and writes to tables no fact comes from do not; the rest do', () => {
    expect(mayInvalidate('SELECT * FROM users WHERE id = $1')).toBe(false);
    expect(mayInvalidate('INSERT INTO events (uuid) VALUES ($1)')).toBe(false);
    expect(mayInvalidate('update rate_limit_counters SET hits = hits + 1')).toBe(false);
    expect(mayInvalidate('DELETE FROM sessions WHERE id_hash = $1')).toBe(true);
    expect(mayInvalidate('UPDATE personal_api_keys SET last_used_at = now()')).toBe(true);
    expect(mayInvalidate('WITH gone AS (DELETE FROM sessions RETURNING 1) SELECT count(*) FROM gone')).toBe(true);
    expect(mayInvalidate('SELECT * FROM organizations FOR UPDATE')).toBe(true);
    // Kysely's compiled SQL: lower case, quoted names.
    expect(mayInvalidate('select * from "users" where "id" = $1')).toBe(false);
    expect(mayInvalidate('insert into "events" ("uuid") values ($1)')).toBe(false);
    expect(mayInvalidate('update "users" set "last_login" = now() where "id" = $1')).toBe(true);
  });
});
