import type { Database } from './database.js';
import { migrations } from './migrations/index.js';

/** Arbitrary constant: the advisory lock every Warden node takes while migrating. */
const MIGRATION_LOCK_KEY = 7_240_113;

/**
 * Applies pending migrations in order, each in its own transaction, under an advisory lock so two
 * nodes starting together cannot race. Returns the names applied.
 */
export async function migrate(db: Database, onStep?: (name: string, state: 'applying' | 'applied') => void): Promise<string[]> {
  return db.withAdvisoryLock(MIGRATION_LOCK_KEY, async () => {
    await db.query(`CREATE TABLE IF NOT EXISTS warden_migrations (
      name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await db.query<{ name: string }>('SELECT name FROM warden_migrations')).map((r) => r.name));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      onStep?.(m.name, 'applying');
      await db.transaction(async (tx) => {
        await tx.exec(m.sql);
        await tx.query('INSERT INTO warden_migrations (name) VALUES ($1)', [m.name]);
      });
      applied.push(m.name);
      onStep?.(m.name, 'applied');
    }
    return applied;
  });
}
