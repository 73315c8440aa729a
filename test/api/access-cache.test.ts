import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheOf } from '../../src/cache/caching-database.js';
import type { AccessCache } from '../../src/cache/access-cache.js';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, PASSWORD, type Org } from '../helpers/world.js';

/**
 * The authorization hot path is served from memory (src/cache/). These tests warm it, change a fact
 * through the API (or the database), and ask again at once: a change must never leave a stale right
 * behind on the node that made it, not even for one request.
 */
let server: TestServer;
let cache: AccessCache;
beforeAll(async () => {
  server = await startServer();
  cache = cacheOf(server.db)!;
});
afterAll(() => server?.close());

const flags = (projectId: number) => `/api/projects/${projectId}/feature_flags/`;

/** Two answers of 200: the second comes from a warm cache. */
async function warm(client: Client, path: string) {
  for (let i = 0; i < 2; i++) expect((await client.get(path)).status).toBe(200);
}

async function makeFlag(org: Org): Promise<number> {
  const res = await org.owner.client.post(flags(org.defaultProjectId), { key: `f-${randomBytes(3).toString('hex')}` });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

describe('the access cache', () => {
  it('answers repeated requests from memory', async () => {
    expect(cache.isTrusted).toBe(true);
    const org = await newOrganization(server.url);
    const flagId = await makeFlag(org);
    const key = await keyClient(org.owner, ['feature_flag:read']);
    await warm(key, `${flags(org.defaultProjectId)}${flagId}/`);
    const before = new Map([...cache.statsBySpace()].map(([space, c]) => [space, { ...c }]));
    for (let i = 0; i < 20; i++) expect((await key.get(`${flags(org.defaultProjectId)}${flagId}/`)).status).toBe(200);
    const after = cache.statsBySpace();
    for (const space of ['key', 'project_access', 'organization', 'membership', 'resource_actor', 'access_rows'] as const) {
      expect(after.get(space)!.hits - before.get(space)!.hits, space).toBeGreaterThanOrEqual(20);
      expect(after.get(space)!.misses - before.get(space)!.misses, space).toBe(0);
    }
  });

  it('forgets a deleted key at once', async () => {
    const org = await newOrganization(server.url);
    const key = await keyClient(org.owner, ['feature_flag:read']);
    await warm(key, flags(org.defaultProjectId));
    expect((await org.owner.client.delete(`/api/personal_api_keys/${key.keyId}/`)).status).toBe(204);
    expectError(await key.get(flags(org.defaultProjectId)), 401);
  });

  it("applies a key's narrowed scopes at once", async () => {
    const org = await newOrganization(server.url);
    const key = await keyClient(org.owner, ['feature_flag:read', 'insight:read']);
    await warm(key, flags(org.defaultProjectId));
    const patched = await org.owner.client.patch(`/api/personal_api_keys/${key.keyId}/`, { scopes: ['insight:read'] });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expectError(await key.get(flags(org.defaultProjectId)), 403, "API key missing required scope 'feature_flag:read'");
  });

  it('applies a demotion at once', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const create = (name: string) => admin.client.post(`/api/organizations/${org.id}/projects/`, { name });
    expect((await create('first')).status).toBe(201);
    expect((await create('second')).status).toBe(201);
    expect((await org.owner.client.patch(`/api/organizations/${org.id}/members/${admin.user.uuid}/`, { level: 1 })).status).toBe(200);
    expectError(await create('third'), 403);
  });

  it('applies a project becoming private at once', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const key = await keyClient(member, ['feature_flag:read']);
    await warm(key, flags(org.defaultProjectId));
    await warm(member.client, flags(org.defaultProjectId));
    const made = await org.owner.client.patch(`/api/projects/${org.defaultProjectId}/`, { access_control: true });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    expectError(await key.get(flags(org.defaultProjectId)), 403, "You don't have access to the project.");
    expectError(await member.client.get(flags(org.defaultProjectId)), 403, "You don't have access to the project.");
  });

  it('applies removal from the organization at once', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const key = await keyClient(member, ['feature_flag:read']);
    await warm(key, flags(org.defaultProjectId));
    expect((await org.owner.client.delete(`/api/organizations/${org.id}/members/${member.user.uuid}/`)).status).toBe(204);
    expect([403, 404]).toContain((await key.get(flags(org.defaultProjectId))).status);
  });

  it("applies a role's resource access at once, both ways", async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const flagId = await makeFlag(org);
    const flag = `${flags(org.defaultProjectId)}${flagId}/`;
    const role = await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: `r-${randomBytes(3).toString('hex')}` });
    expect(role.status).toBe(201);
    const ac = `/api/projects/${org.defaultProjectId}/resource_access_controls/`;
    expect((await org.owner.client.put(ac, { resource: 'feature_flag', access_level: 'none', role: role.body.id })).status).toBe(200);
    await warm(member.client, flag);
    // Joining the role takes the flags away …
    const joined = await org.owner.client.post(`/api/organizations/${org.id}/roles/${role.body.id}/role_memberships/`, { user_uuid: member.user.uuid });
    expect(joined.status).toBe(201);
    expectError(await member.client.get(flag), 403);
    // … and deleting the rule gives them back.
    expect([200, 204]).toContain((await org.owner.client.put(ac, { resource: 'feature_flag', access_level: null, role: role.body.id })).status);
    expect((await member.client.get(flag)).status).toBe(200);
  });

  it('ends a session at logout at once', async () => {
    const org = await newOrganization(server.url);
    const client = new Client(server.url);
    expect((await client.post('/api/login/', { email: org.owner.user.email, password: PASSWORD })).status).toBe(200);
    const cookie = `sessionid=${client.cookie('sessionid')}`;
    const replay = () => fetch(new URL('/api/users/@me/', server.url), { headers: { cookie } });
    expect((await replay()).status).toBe(200);
    expect((await replay()).status).toBe(200);
    expect((await client.post('/api/logout/')).status).toBeLessThan(300);
    expect((await replay()).status).toBe(401);
  });

  it('hears a change written straight into the database, as an operator would', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const key = await keyClient(member, ['feature_flag:read']);
    await warm(key, flags(org.defaultProjectId));
    await warm(member.client, flags(org.defaultProjectId));
    await server.db.query('UPDATE users SET is_active = false WHERE id = $1', [member.user.id]);
    expectError(await key.get(flags(org.defaultProjectId)), 401);
    expect((await member.client.get(flags(org.defaultProjectId))).status).toBe(401);
  });

  it("answers a flag as it is now: its own changes and its creator's", async () => {
    const org = await newOrganization(server.url);
    const flagId = await makeFlag(org);
    const key = await keyClient(org.owner, ['feature_flag:read']);
    const url = `${flags(org.defaultProjectId)}${flagId}/`;
    await warm(key, url);
    expect((await org.owner.client.patch(url, { name: 'Renamed' })).status).toBe(200);
    expect((await key.get(url)).body.name).toBe('Renamed');
    expect((await org.owner.client.patch('/api/users/@me/', { first_name: 'Ottilie' })).status).toBe(200);
    expect((await key.get(url)).body.created_by.first_name).toBe('Ottilie');
  });

  it('serves flag definitions from memory and still shows a new flag at once', async () => {
    const org = await newOrganization(server.url);
    const key = await keyClient(org.owner, ['feature_flag:read']);
    const token = (await org.owner.client.get(`/api/projects/${org.defaultProjectId}/`)).body.api_token;
    const definitions = async () => (await key.get(`/api/feature_flag/local_evaluation/?token=${token}`)).body.flags.map((f: { key: string }) => f.key);
    expect(await definitions()).toEqual([]);
    const hitsBefore = cache.statsBySpace().get('flags')!.hits;
    expect(await definitions()).toEqual([]);
    expect(cache.statsBySpace().get('flags')!.hits).toBe(hitsBefore + 1);
    const created = await org.owner.client.post(flags(org.defaultProjectId), { key: 'fresh' });
    expect(created.status).toBe(201);
    expect(await definitions()).toEqual(['fresh']);
  });
});
