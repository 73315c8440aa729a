import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheOf } from '../../src/cache/caching-database.js';
import { LISTENER_APPLICATION_NAME } from '../../src/cache/invalidation-listener.js';
import { Client } from '../helpers/client.js';
import { eventually } from '../helpers/https-receiver.js';
import { startNode, startServer, storeKind, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, PASSWORD, type Person } from '../helpers/world.js';

/**
 * Two `warden serve` nodes on one Postgres, each with its own access cache. A change made through
 * node A must reach node B's cache through LISTEN/NOTIFY; these tests warm B first so that a stale
 * cache would answer. (The embedded database is single-process: one node only.)
 */
describe.runIf(storeKind === 'postgres')('two nodes on one Postgres', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startServer();
    b = await startNode(a);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const flags = (projectId: number) => `/api/projects/${projectId}/feature_flags/`;
  /** The same credentials, sent to another node. */
  const onNode = (node: TestServer, key: string) => new Client(node.url).withKey(key);
  async function keyValue(person: Person, scopes: string[]): Promise<{ id: string; value: string }> {
    const res = await person.client.post('/api/personal_api_keys/', { label: 'node test', scopes });
    expect(res.status).toBe(201);
    return { id: res.body.id, value: res.body.value };
  }
  async function warm(client: Client, path: string) {
    for (let i = 0; i < 2; i++) expect((await client.get(path)).status).toBe(200);
  }

  it('agree after a key is revoked', async () => {
    const org = await newOrganization(a.url);
    const key = await keyValue(org.owner, ['feature_flag:read']);
    await warm(onNode(b, key.value), flags(org.defaultProjectId));
    await warm(onNode(a, key.value), flags(org.defaultProjectId));
    expect((await org.owner.client.delete(`/api/personal_api_keys/${key.id}/`)).status).toBe(204);
    expectError(await onNode(a, key.value).get(flags(org.defaultProjectId)), 401);
    await eventually('node B refuses the revoked key', async () => (await onNode(b, key.value).get(flags(org.defaultProjectId))).status === 401, 5_000);
  });

  it('agree after a demotion', async () => {
    const org = await newOrganization(a.url);
    const admin = await addMember(org, 8);
    const adminOnB = new Client(b.url);
    expect((await adminOnB.post('/api/login/', { email: admin.user.email, password: PASSWORD })).status).toBe(200);
    const createOnB = (name: string) => adminOnB.post(`/api/organizations/${org.id}/projects/`, { name });
    expect((await createOnB('one')).status).toBe(201);
    expect((await createOnB('two')).status).toBe(201);
    expect((await org.owner.client.patch(`/api/organizations/${org.id}/members/${admin.user.uuid}/`, { level: 1 })).status).toBe(200);
    let n = 0;
    await eventually('node B applies the demotion', async () => (await createOnB(`after-${++n}`)).status === 403, 5_000);
  });

  it('agree after a project becomes private', async () => {
    const org = await newOrganization(a.url);
    const member = await addMember(org, 1);
    const key = await keyValue(member, ['feature_flag:read']);
    await warm(onNode(b, key.value), flags(org.defaultProjectId));
    expect((await org.owner.client.patch(`/api/projects/${org.defaultProjectId}/`, { access_control: true })).status).toBe(200);
    await eventually('node B hides the private project', async () => (await onNode(b, key.value).get(flags(org.defaultProjectId))).status === 403, 5_000);
    // And back: made public again, node B lets the member in again.
    expect((await org.owner.client.patch(`/api/projects/${org.defaultProjectId}/`, { access_control: false })).status).toBe(200);
    await eventually('node B shows the project again', async () => (await onNode(b, key.value).get(flags(org.defaultProjectId))).status === 200, 5_000);
  });

  it('agree after a logout: a session ended on one node ends on the other', async () => {
    const org = await newOrganization(a.url);
    const client = new Client(a.url);
    expect((await client.post('/api/login/', { email: org.owner.user.email, password: PASSWORD })).status).toBe(200);
    const cookie = `sessionid=${client.cookie('sessionid')}`;
    const onB = () => fetch(new URL('/api/users/@me/', b.url), { headers: { cookie } });
    expect((await onB()).status).toBe(200);
    expect((await onB()).status).toBe(200);
    expect((await client.post('/api/logout/')).status).toBeLessThan(300);
    await eventually('node B ends the session', async () => (await onB()).status === 401, 5_000);
  });

  it('a node that loses its notification connection reads from the database until it has caught up', async () => {
    const cacheB = cacheOf(b.db)!;
    const org = await newOrganization(a.url);
    const key = await keyValue(org.owner, ['feature_flag:read']);
    await warm(onNode(b, key.value), flags(org.defaultProjectId));
    expect(cacheB.isTrusted).toBe(true);

    // Cut every listener connection of this database (both nodes'), as a failover or an admin would.
    const admin = new pg.Client({ connectionString: a.config.databaseUrl });
    await admin.connect();
    try {
      const cut = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [
        LISTENER_APPLICATION_NAME,
      ]);
      expect(cut.rowCount).toBe(2);
    } finally {
      await admin.end();
    }
    await eventually('node B stops trusting its cache', async () => !cacheB.isTrusted, 5_000);
    // While it cannot hear, a change is seen at once: node B reads from the database.
    expect((await org.owner.client.delete(`/api/personal_api_keys/${key.id}/`)).status).toBe(204);
    expectError(await onNode(b, key.value).get(flags(org.defaultProjectId)), 401);

    // It reconnects, starts from nothing, and serves from memory again.
    await eventually('node B listens again', async () => cacheB.isTrusted, 10_000);
    const other = await keyValue(org.owner, ['feature_flag:read']);
    await warm(onNode(b, other.value), flags(org.defaultProjectId));
    const hits = cacheB.statsBySpace().get('key')!.hits;
    expect((await onNode(b, other.value).get(flags(org.defaultProjectId))).status).toBe(200);
    expect(cacheB.statsBySpace().get('key')!.hits).toBe(hits + 1);
    // And hears changes again.
    expect((await org.owner.client.delete(`/api/personal_api_keys/${other.id}/`)).status).toBe(204);
    await eventually(
      'node B refuses the second revoked key',
      async () => (await onNode(b, other.value).get(flags(org.defaultProjectId))).status === 401,
      5_000,
    );
  });
});
