/**
 * Reading flags costs what is read, not the project's whole list (issue 19: memory grew with
 * flags x read rate). A page of the list reads that page from the database; a write to one flag
 * of many refreshes the cached definitions by that one flag. Measured as the bytes of the rows the
 * database hands back, under a real server whose database counts them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessCache } from '../../src/cache/access-cache.js';
import { withAccessCache } from '../../src/cache/caching-database.js';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import type { Database, Queryable } from '../../src/store/database.js';
import { migrate } from '../../src/store/migrate.js';
import { openDatabase } from '../../src/store/open.js';
import { freshPostgresDatabase, storeKind } from '../helpers/server.js';
import { keyClient, newOrganization } from '../helpers/world.js';

const FLAGS = 300;

describe(`flag reads cost what they read (${storeKind})`, () => {
  let bytes = 0;
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const pgdb = process.env.DATABASE_URL ? await freshPostgresDatabase(process.env.DATABASE_URL) : undefined;
    const inner = await openDatabase({ databaseUrl: pgdb?.url, dataDir: null });
    // The driver's answers, counted below the access cache (as a serving node has it, on one node).
    const counted = (q: Queryable): Queryable => ({
      async query<Row>(text: string, params?: readonly unknown[]) {
        const rows = await q.query<Row>(text, params);
        bytes += JSON.stringify(rows).length;
        return rows;
      },
      exec: (script) => q.exec(script),
    });
    const counting: Database = { ...inner, ...counted(inner), transaction: (fn) => inner.transaction((tx) => fn(counted(tx))) };
    await migrate(counting);
    const db = withAccessCache(counting, new AccessCache());
    const config = { ...loadConfig({}, {}), port: 0, logLevel: 'silent', openSignup: true, rateLimits: false, databaseUrl: pgdb?.url };
    const { app } = await buildApp(db, config);
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    close = async () => {
      await app.close();
      await db.close();
      await pgdb?.drop();
    };
  });
  afterAll(async () => {
    await close?.();
  });

  /** Bytes of database rows read while `fn` runs. */
  async function cost(fn: () => Promise<void>): Promise<number> {
    const before = bytes;
    await fn();
    return bytes - before;
  }

  it(`reads one page of ${FLAGS} flags, and refreshes cached definitions by the flag that changed`, async () => {
    const org = await newOrganization(url);
    const client = await keyClient(org.owner, ['feature_flag:read', 'feature_flag:write']);
    const project = org.defaultProjectId;
    const created = await client.post(`/api/projects/${project}/feature_flags/`, { key: 'first', name: 'x'.repeat(200) });
    expect(created.status).toBe(201);
    const base = `/api/projects/${project}/feature_flags/`;
    // Many flags, fifty at a time.
    for (let i = 1; i < FLAGS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, FLAGS - i) }, (_, j) =>
          client.post(base, { key: `flag-${i + j}`, name: 'y'.repeat(200) }).then((r) => expect(r.status).toBe(201)),
        ),
      );
    }

    let everyKey: string[] = [];
    const listAll = await cost(async () => {
      const res = await client.get(`${base}?limit=${FLAGS}`);
      expect(res.body.count).toBe(FLAGS);
      everyKey = res.body.results.map((f: { key: string }) => f.key);
      expect(everyKey).toHaveLength(FLAGS);
    });
    const onePage = await cost(async () => {
      const res = await client.get(`${base}?limit=10&offset=20`);
      expect(res.body.count).toBe(FLAGS);
      expect(res.body.results.map((f: { key: string }) => f.key)).toEqual(everyKey.slice(20, 30));
      expect(res.body.next).toContain('offset=30');
    });
    expect(onePage).toBeLessThan(listAll / 5);

    // Local evaluation reads every definition once, then from memory.
    const token = (await org.owner.client.get(`/api/projects/${project}/`)).body.api_token;
    const definitions = () => client.get(`/api/feature_flag/local_evaluation/?token=${token}`);
    const full = await cost(async () => {
      expect((await definitions()).body.flags).toHaveLength(FLAGS);
    });
    expect(await cost(async () => void (await definitions()))).toBeLessThan(full / 5);
    // One flag changes: the refresh reads that flag and the others' ids and versions, not all of them.
    const flagId = created.body.id;
    expect((await client.patch(`${base}${flagId}/`, { active: false })).status).toBe(200);
    const refresh = await cost(async () => {
      const flags = (await definitions()).body.flags as Array<{ id: number; active: boolean }>;
      expect(flags).toHaveLength(FLAGS);
      expect(flags.find((f) => f.id === flagId)!.active).toBe(false);
    });
    expect(refresh).toBeLessThan(full / 3);
  });
});
