import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type WardenConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import type { RouteEntry } from '../../src/http/route-table.js';
import type { Database } from '../../src/store/database.js';
import { openServingStore, servingCache } from '../../src/cli/serving-store.js';
import { storeOptions } from '../../src/store/open.js';

export interface TestServer {
  url: string;
  db: Database;
  routes: readonly RouteEntry[];
  config: WardenConfig;
  close(): Promise<void>;
}

/** Which database the suite runs on: the embedded one, or the Postgres server in DATABASE_URL. */
export const storeKind = process.env.DATABASE_URL ? 'postgres' : 'pglite';

/** A fresh database on the Postgres server named by DATABASE_URL, dropped again by the returned function. */
export async function freshPostgresDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `warden_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A real Warden over real HTTP on a loopback port, with its own empty database. */
export async function startServer(overrides: Partial<WardenConfig> = {}): Promise<TestServer> {
  const pgdb = process.env.DATABASE_URL ? await freshPostgresDatabase(process.env.DATABASE_URL) : undefined;
  const config: WardenConfig = {
    ...loadConfig({}, {}),
    port: 0,
    logLevel: 'silent',
    openSignup: true,
    // Rate limits would throttle suites that sign up many people from 127.0.0.1; their own tests turn them on.
    rateLimits: false,
    // The test IdPs, OIDC providers and sinks listen on loopback: the operator setting lets them in
    // (the default refuses loopback); tests of the policy itself override it.
    outboundAllow: ['127.0.0.1'],
    databaseUrl: pgdb?.url,
    ...overrides,
  };
  try {
    return await serve(config, async () => {
      await pgdb?.drop();
    });
  } catch (err) {
    await pgdb?.drop().catch(() => undefined);
    throw err;
  }
}

/** Another node on a running server's database (Postgres): its own process state, cache and listener. */
export async function startNode(peer: TestServer, overrides: Partial<WardenConfig> = {}): Promise<TestServer> {
  return serve({ ...peer.config, publicUrl: '', ...overrides });
}

/** Opens the configured database as `warden serve` does (with its access cache) and listens on loopback. */
export async function serve(config: WardenConfig, afterClose?: () => Promise<void>): Promise<TestServer> {
  const db = await openServingStore({ ...storeOptions(config), dataDir: null, cache: servingCache(config) });
  let built: Awaited<ReturnType<typeof buildApp>> | undefined;
  let address: string;
  try {
    built = await buildApp(db, config);
    address = await built.app.listen({ host: '127.0.0.1', port: 0 });
  } catch (err) {
    // Nothing half-started is left behind: the app (its background jobs) and the database close.
    await built?.app.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
  const { app, routes } = built;
  // SSO builds its redirect and metadata URLs from the public URL: the port is known only now.
  if (!config.publicUrl) config.publicUrl = address;
  return {
    url: address,
    db,
    routes,
    config,
    async close() {
      await app.close();
      await db.close();
      await afterClose?.();
    },
  };
}
