// Benchmark 3 of issue 9: key verification cost with 10 keys stored versus 1,000,000, both ways a
// serving node verifies a key: from the access cache (a working set of hot keys, the steady state)
// and from the database (a key the node has not seen: the sha256 through a unique index). Both
// ratios should stay near 1. Runs on the embedded database, or on Postgres when DATABASE_URL is set
// (in a fresh database each, dropped afterwards).
import { cacheOf } from '../dist/cache/caching-database.js';
import { findKeyByValue } from '../dist/domain/organizations/api-keys.js';
import { freshStore } from './databases.mjs';
import { compare } from './timing.mjs';

const LARGE = Number(process.env.BENCH_KEYS ?? 1_000_000);
/** Keys in use at once (each seen before): what the cache holds in the steady state. */
const HOT = 1_000;

/** n keys for one user; key i has the value phx_bench<i>, stored as PostHog stores it (sha256$hex). */
async function seed(db, n) {
  const [user] = await db.query("INSERT INTO users (distinct_id, email, first_name) VALUES ('bench', 'bench@example.com', 'Bench') RETURNING id");
  const batch = 100_000;
  for (let from = 1; from <= n; from += batch) {
    const to = Math.min(n, from + batch - 1);
    await db.query(
      `INSERT INTO personal_api_keys (id, user_id, label, mask_value, secure_value, scopes)
       SELECT 'bench' || i, $1, 'bench', 'phx_...', 'sha256$' || encode(sha256(convert_to('phx_bench' || i, 'UTF8')), 'hex'), ARRAY['*']
         FROM generate_series($2::int, $3::int) AS i`,
      [user.id, from, to],
    );
  }
  await db.query('ANALYZE personal_api_keys');
}

export async function benchKeyVerification() {
  const store = process.env.DATABASE_URL ? 'Postgres' : 'PGlite';
  const small = await freshStore({ cache: true });
  const large = await freshStore({ cache: true });
  const caches = [cacheOf(small.db), cacheOf(large.db)];
  try {
    const t0 = Date.now();
    await seed(small.db, 10);
    await seed(large.db, LARGE);
    const seeded = ((Date.now() - t0) / 1000).toFixed(1);
    /** Looks up one of the first n seeded keys. */
    const probe = (db, n) => async (i) => {
      const found = await findKeyByValue(db, `phx_bench${1 + ((i * 7919) % n)}`);
      if (!found) throw new Error('seeded key not found');
    };
    const miss = (db) => async (i) => {
      if (await findKeyByValue(db, `phx_nokey${i}`)) throw new Error('unexpected key');
    };
    // From the database: the caches distrusted, every lookup reads.
    for (const cache of caches) cache.distrust();
    const hit = await compare(probe(small.db, 10), probe(large.db, LARGE), { iterations: 500 });
    const absent = await compare(miss(small.db), miss(large.db), { iterations: 500 });
    // From memory: the hot keys were looked up before (compare's warm-up covers them).
    for (const cache of caches) cache.resume();
    const cached = await compare(probe(small.db, 10), probe(large.db, HOT), { iterations: 20_000 });
    const { hits, misses } = caches[1].stats();
    console.log(`key verification on ${store} (seeded 10 and ${LARGE.toLocaleString('en')} keys in ${seeded}s)`);
    console.log(
      `  valid key, from memory       : ${(cached.a / 1000).toFixed(2)} us with 10, ${(cached.b / 1000).toFixed(2)} us with ${LARGE.toLocaleString('en')}; ratio ${(cached.b / cached.a).toFixed(2)} (${HOT} hot keys; ${hits} hits, ${misses} misses)`,
    );
    console.log(
      `  valid key, from the database : ${(hit.a / 1000).toFixed(1)} us with 10, ${(hit.b / 1000).toFixed(1)} us with ${LARGE.toLocaleString('en')}; ratio ${(hit.b / hit.a).toFixed(2)}`,
    );
    console.log(
      `  unknown key (database)       : ${(absent.a / 1000).toFixed(1)} us with 10, ${(absent.b / 1000).toFixed(1)} us with ${LARGE.toLocaleString('en')}; ratio ${(absent.b / absent.a).toFixed(2)}`,
    );
    console.log(`  database / memory, valid key with ${LARGE.toLocaleString('en')}: ${(hit.b / cached.b).toFixed(0)}x`);
  } finally {
    await small.drop();
    await large.drop();
  }
}
