import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable } from './database.js';

/** The embedded database. `dataDir` null keeps everything in memory (tests). */
export async function openPglite(dataDir: string | null): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir ?? undefined);
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    async query<Row>(text: string, params?: readonly unknown[]) {
      const result = await q.query<Row>(text, params as unknown[] | undefined);
      return result.rows;
    },
    async exec(script: string) {
      await q.exec(script);
    },
  });
  const root = wrap(db);
  return {
    kind: 'pglite',
    query: root.query,
    exec: root.exec,
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    // PGlite is single-process and serializes its own queries; the lock SQL still runs so both
    // drivers execute the same statements.
    async withAdvisoryLock(key, fn) {
      await db.query('SELECT pg_advisory_lock($1)', [key]);
      try {
        return await fn(root);
      } finally {
        await db.query('SELECT pg_advisory_unlock($1)', [key]);
      }
    },
    // In-process: it answers unless the process itself is stuck.
    async ping() {
      await db.query('SELECT 1');
    },
    close: () => db.close(),
  };
}
