import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/migrate.js';
import { migrations } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/open.js';
import { freshPostgresDatabase } from '../helpers/server.js';

describe('migrations', () => {
  it('apply once and are a no-op on the next start (embedded database on disk)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-migrate-'));
    try {
      const first = await openStore({ dataDir: dir });
      const [row] = await first.query<{ n: number }>('SELECT count(*)::int AS n FROM warden_migrations');
      expect(row!.n).toBe(migrations.length);
      await first.query("INSERT INTO instance_settings (key, value) VALUES ('kept', '1')");
      await first.close();
      const second = await openStore({ dataDir: dir });
      expect(await migrate(second)).toEqual([]);
      expect(await second.query('SELECT key FROM instance_settings')).toEqual([{ key: 'kept' }]);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Two nodes starting together on one Postgres database: the advisory lock lets one migrate and
  // the other find the work done. Needs a Postgres server (the suite's Postgres run has one).
  it.runIf(process.env.DATABASE_URL)('two nodes migrating one Postgres database at once do not race', async () => {
    const pg = await freshPostgresDatabase(process.env.DATABASE_URL!);
    try {
      const stores = await Promise.all([1, 2, 3].map(() => openStore({ databaseUrl: pg.url, dataDir: null })));
      const [row] = await stores[0]!.query<{ n: number }>('SELECT count(*)::int AS n FROM warden_migrations');
      expect(row!.n).toBe(migrations.length);
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await pg.drop();
    }
  });
});

describe('the Postgres driver', () => {
  // A server restart or an administrator's command cuts idle pooled connections: Warden must keep
  // running and serve the next query on a new connection.
  it.runIf(process.env.DATABASE_URL)('survives the server terminating its idle connections', async () => {
    const pg = await freshPostgresDatabase(process.env.DATABASE_URL!);
    const store = await openStore({ databaseUrl: pg.url, dataDir: null });
    try {
      await store.query('SELECT 1');
      const name = new URL(pg.url).pathname.slice(1);
      const { default: pgClient } = await import('pg');
      const client = new pgClient.Client({ connectionString: process.env.DATABASE_URL! });
      await client.connect();
      const cut = await client.query('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
      await client.end();
      expect(cut.rows[0].n).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await store.query<{ ok: number }>('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    } finally {
      await store.close();
      await pg.drop();
    }
  });
});
