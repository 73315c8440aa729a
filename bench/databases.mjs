// Fresh databases for benchmarks: an in-memory embedded one, or a new database on the Postgres
// server in DATABASE_URL (dropped again afterwards).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openServingStore } from '../dist/cli/serving-store.js';

async function adminQuery(sql) {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new database on the DATABASE_URL server: its URL, and how to drop it. */
export async function createPostgresDatabase() {
  const name = `warden_bench_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * An opened, migrated store: Postgres when DATABASE_URL is set, else the embedded database in memory.
 * `cache: true` gives it the access cache of a serving node (and, on Postgres, its listener).
 */
export async function freshStore({ cache = false } = {}) {
  if (!process.env.DATABASE_URL) {
    const db = await openServingStore({ dataDir: null, cache });
    return { db, kind: 'embedded database', drop: () => db.close() };
  }
  const database = await createPostgresDatabase();
  const db = await openServingStore({ databaseUrl: database.url, dataDir: null, cache });
  return {
    db,
    kind: 'Postgres',
    drop: async () => {
      await db.close();
      await database.drop();
    },
  };
}
