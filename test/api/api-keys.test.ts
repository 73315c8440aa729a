import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const KEYS = '/api/personal_api_keys/';

describe('personal API keys: creation and storage', () => {
  it('shows the value once, masks it, and stores only its sha256', async () => {
    const org = await newOrganization(server.url);
    const created = await org.owner.client.post(KEYS, { label: 'ci', scopes: ['project:read'] });
    expect(created.status).toBe(201);
    const value: string = created.body.value;
    expect(value).toMatch(/^phx_[0-9A-Za-z]{48}$/);
    expect(created.body.mask_value).toBe(`phx_...${value.slice(-4)}`);
    expect(created.body).toMatchObject({ label: 'ci', scopes: ['project:read'], scoped_teams: [], scoped_organizations: [], last_used_at: null });

    const fetched = await org.owner.client.get(`${KEYS}${created.body.id}/`);
    expect(fetched.body.value).toBeNull();
    const listed = await org.owner.client.get(KEYS);
    expect(Array.isArray(listed.body)).toBe(true);
    expect(listed.body.every((k: any) => k.value === null)).toBe(true);

    const [row] = await server.db.query<Record<string, unknown>>('SELECT * FROM personal_api_keys WHERE id = $1', [created.body.id]);
    expect(row!.secure_value).toBe(`sha256$${createHash('sha256').update(value).digest('hex')}`);
    expect(JSON.stringify(row)).not.toContain(value);
    const activity = await server.db.query<{ detail: unknown; activity: string }>('SELECT activity, detail FROM activity_log WHERE item_id = $1', [
      created.body.id,
    ]);
    expect(activity.map((a) => a.activity)).toContain('api_key_created');
    expect(JSON.stringify(activity)).not.toContain(value);
  });

  it("validates label, scopes and the 10-key limit with PostHog's messages", async () => {
    const org = await newOrganization(server.url);
    const c = org.owner.client;
    expectError(await c.post(KEYS, { label: 'x'.repeat(41), scopes: ['*'] }), 400, 'Ensure this field has no more than 40 characters.', 'label');
    expectError(await c.post(KEYS, { label: 'no scopes' }), 400, 'This field is required.', 'scopes');
    expectError(await c.post(KEYS, { label: 'bad', scopes: ['nope:read'] }), 400, 'Invalid scope: nope:read', 'scopes');
    expectError(await c.post(KEYS, { label: 'bad', scopes: ['feature_flag:delete'] }), 400, 'Invalid scope: feature_flag:delete', 'scopes');
    expect((await c.get(KEYS)).body).toHaveLength(0);
    for (let i = 0; i < 10; i++) expect((await c.post(KEYS, { label: `k${i}`, scopes: ['event:read'] })).status).toBe(201);
    expectError(
      await c.post(KEYS, { label: 'eleventh', scopes: ['*'] }),
      400,
      'You can only have 10 personal API keys. Remove an existing key before creating a new one.',
    );
  });

  it('only scopes keys to projects and organizations the user belongs to', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    expectError(
      await org.owner.client.post(KEYS, { label: 't', scopes: ['*'], scoped_teams: [other.defaultProjectId] }),
      400,
      'You must be a member of all teams that you are scoping the key to.',
      'scoped_teams',
    );
    expectError(
      await org.owner.client.post(KEYS, { label: 'o', scopes: ['*'], scoped_organizations: [other.id] }),
      400,
      'You must be a member of all organizations that you are scoping the key to.',
      'scoped_organizations',
    );
  });
});

describe('personal API keys: what a key may do', () => {
  it('needs the route scope; write implies read', async () => {
    const org = await newOrganization(server.url);
    const reader = await keyClient(org.owner, ['project:read']);
    const writer = await keyClient(org.owner, ['project:write']);
    expect((await reader.get(`/api/projects/${org.defaultProjectId}/`)).status).toBe(200);
    expect((await writer.get(`/api/projects/${org.defaultProjectId}/`)).status).toBe(200);
    expectError(await reader.patch(`/api/projects/${org.defaultProjectId}/`, { name: 'x' }), 403, "API key missing required scope 'project:write'");
    expectError(await reader.get(`/api/organizations/${org.id}/members/`), 403, "API key missing required scope 'organization_member:read'");
    expect((await writer.patch(`/api/projects/${org.defaultProjectId}/`, { name: 'renamed' })).body.name).toBe('renamed');
  });

  it("is confined to its scoped projects and organizations with PostHog's messages", async () => {
    const org = await newOrganization(server.url);
    const second = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Second' });
    const projectKey = await keyClient(org.owner, ['*'], { scoped_teams: [org.defaultProjectId] });
    expect((await projectKey.get(`/api/projects/${org.defaultProjectId}/`)).status).toBe(200);
    expectError(await projectKey.get(`/api/projects/${second.body.id}/`), 403, `API key does not have access to the requested project: ID ${second.body.id}.`);
    // Only routes about a project: not the project list, which is about the organization.
    expectError(await projectKey.get('/api/projects/'), 403, 'API keys with scoped projects are only supported on project-based views.');

    // Creating an organization makes it the owner's current one, as in PostHog.
    const otherOrg = await org.owner.client.post('/api/organizations/', { name: 'Elsewhere' });

    const orgKey = await keyClient(org.owner, ['*'], { scoped_organizations: [org.id] });
    expect((await orgKey.get(`/api/organizations/${org.id}/`)).status).toBe(200);
    expectError(
      await orgKey.get(`/api/organizations/${otherOrg.body.id}/`),
      403,
      `API key does not have access to the requested organization: ID ${otherOrg.body.id}.`,
    );
    expect((await orgKey.get('/api/organizations/')).body.results.map((o: any) => o.id)).toEqual([org.id]);
  });

  it("never exceeds its user's rights", async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const key = await keyClient(member, ['*']);
    expectError(
      await key.post(`/api/organizations/${org.id}/projects/`, { name: 'Nope' }),
      403,
      'You need to be an organization admin or above to create new projects.',
    );
    expectError(await key.patch(`/api/organizations/${org.id}/`, { name: 'Nope' }), 403, 'Your organization access level is insufficient.');
  });

  it('takes key management only through a session or a `*` key; any key reads itself', async () => {
    const org = await newOrganization(server.url);
    const narrow = await keyClient(org.owner, ['project:read']);
    const star = await keyClient(org.owner, ['*']);
    expectError(await narrow.get(KEYS), 403, 'This action does not support Personal API Key access');
    expectError(await narrow.post(KEYS, { label: 'x', scopes: ['*'] }), 403, 'This action does not support Personal API Key access');
    expect((await narrow.get(`${KEYS}@current/`)).body.id).toBe(narrow.keyId);
    expectError(await narrow.get(`${KEYS}${star.keyId}/`), 403, 'This action does not support Personal API Key access');
    expect((await star.post(KEYS, { label: 'minted', scopes: ['insight:read'] })).status).toBe(201);
  });

  it("follows the organization's members_can_use_personal_api_keys", async () => {
    const org = await newOrganization(server.url, 'Strict Co');
    const member = await addMember(org, 1);
    const admin = await addMember(org, 8);
    const memberKey = await keyClient(member, ['*']);
    const adminKey = await keyClient(admin, ['*']);
    expect((await org.owner.client.patch(`/api/organizations/${org.id}/`, { members_can_use_personal_api_keys: false })).status).toBe(200);
    const message = "Organization 'Strict Co' does not allow using personal API keys. Contact an admin to enable personal API keys for this organization.";
    expectError(await memberKey.get(`/api/projects/${org.defaultProjectId}/`), 403, message);
    expectError(await member.client.post(KEYS, { label: 'x', scopes: ['*'] }), 403, message);
    expect((await adminKey.get(`/api/projects/${org.defaultProjectId}/`)).status).toBe(200);
  });
});

describe('personal API keys: revocation bites on the next request', () => {
  it('after delete, roll, removal from the organization and deactivation', async () => {
    const org = await newOrganization(server.url);
    const path = `/api/projects/${org.defaultProjectId}/`;
    const deleted = await keyClient(org.owner, ['*']);
    expect((await deleted.get(path)).status).toBe(200);
    expect((await org.owner.client.delete(`${KEYS}${deleted.keyId}/`)).status).toBe(204);
    expectError(await deleted.get(path), 401, 'Personal API key found in request Authorization header is invalid.');

    const rolled = await keyClient(org.owner, ['*']);
    const roll = await org.owner.client.post(`${KEYS}${rolled.keyId}/roll/`);
    expect(roll.status).toBe(200);
    expect(roll.body.value).toMatch(/^phx_/);
    expect(roll.body.last_rolled_at).not.toBeNull();
    expectError(await rolled.get(path), 401);
    expect((await rolled.withKey(roll.body.value).get(path)).status).toBe(200);

    const member = await addMember(org, 1);
    const memberKey = await keyClient(member, ['*']);
    expect((await memberKey.get(path)).status).toBe(200);
    expect((await org.owner.client.delete(`/api/organizations/${org.id}/members/${member.user.uuid}/`)).status).toBe(204);
    expectError(await memberKey.get(path), 404, 'Project not found.');

    const other = await addMember(org, 1);
    const otherKey = await keyClient(other, ['*']);
    await server.db.query('UPDATE users SET is_active = false WHERE id = $1', [other.user.id]);
    expectError(await otherKey.get(path), 401, 'Personal API key found in request Authorization header is invalid.');
  });

  it('rejects expired keys with a clear 401', async () => {
    const org = await newOrganization(server.url);
    expectError(
      await org.owner.client.post(KEYS, { label: 'past', scopes: ['*'], expires_at: '2000-01-01T00:00:00Z' }),
      400,
      'The expiry must be in the future.',
      'expires_at',
    );
    const key = await keyClient(org.owner, ['*'], { expires_at: new Date(Date.now() + 3600_000).toISOString() });
    expect((await key.get(`/api/projects/${org.defaultProjectId}/`)).status).toBe(200);
    await server.db.query("UPDATE personal_api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [key.keyId]);
    expectError(await key.get(`/api/projects/${org.defaultProjectId}/`), 401, 'Personal API key found in request Authorization header has expired.');
  });

  it('records last use at most once an hour', async () => {
    const org = await newOrganization(server.url);
    const key = await keyClient(org.owner, ['*']);
    await key.get(`/api/projects/${org.defaultProjectId}/`);
    const first = (await org.owner.client.get(`${KEYS}${key.keyId}/`)).body.last_used_at;
    expect(first).not.toBeNull();
    await key.get(`/api/projects/${org.defaultProjectId}/`);
    expect((await org.owner.client.get(`${KEYS}${key.keyId}/`)).body.last_used_at).toBe(first);
  });
});

describe("an organization's key policy", () => {
  it('keeps keys inside its allowed scopes, at creation and at use', async () => {
    const org = await newOrganization(server.url, 'Bounded');
    const before = await keyClient(org.owner, ['*'], { scoped_organizations: [org.id] });
    const patched = await org.owner.client.patch(`/api/organizations/${org.id}/`, {
      personal_api_keys_allowed_scopes: ['project:read', 'organization:read'],
    });
    expect(patched.body.personal_api_keys_allowed_scopes).toEqual(['project:read', 'organization:read']);
    expectError(
      await org.owner.client.patch(`/api/organizations/${org.id}/`, { personal_api_keys_allowed_scopes: ['nope:read'] }),
      400,
      'Invalid scope: nope:read',
    );
    // An existing broad key can no longer use what the boundary leaves out.
    expect((await before.get(`/api/projects/${org.defaultProjectId}/`)).status).toBe(200);
    expectError(
      await before.patch(`/api/projects/${org.defaultProjectId}/`, { name: 'x' }),
      403,
      "Organization 'Bounded' does not allow personal API keys to use the scope 'project:write'.",
    );
    expectError(
      await org.owner.client.post(KEYS, { label: 'w', scopes: ['project:write'], scoped_organizations: [org.id] }),
      400,
      "Organization 'Bounded' does not allow personal API keys the scope 'project:write'.",
      'scopes',
    );
    expect((await org.owner.client.post(KEYS, { label: 'r', scopes: ['project:read'], scoped_organizations: [org.id] })).status).toBe(201);
  });

  it('limits key lifetime', async () => {
    const org = await newOrganization(server.url, 'Short Lived');
    const old = await keyClient(org.owner, ['*'], { scoped_organizations: [org.id] });
    expect((await org.owner.client.patch(`/api/organizations/${org.id}/`, { personal_api_keys_max_lifetime_days: 30 })).status).toBe(200);
    const created = await org.owner.client.post(KEYS, { label: 'auto', scopes: ['*'], scoped_organizations: [org.id] });
    const lifetime = new Date(created.body.expires_at).getTime() - new Date(created.body.created_at).getTime();
    expect(Math.abs(lifetime - 30 * 86400_000)).toBeLessThan(5000);
    expectError(
      await org.owner.client.post(KEYS, {
        label: 'long',
        scopes: ['*'],
        scoped_organizations: [org.id],
        expires_at: new Date(Date.now() + 60 * 86400_000).toISOString(),
      }),
      400,
      "Organization 'Short Lived' allows personal API keys to live at most 30 days.",
      'expires_at',
    );
    expect((await old.get(`/api/organizations/${org.id}/`)).status).toBe(200);
    await server.db.query("UPDATE personal_api_keys SET created_at = now() - interval '31 days' WHERE id = $1", [old.keyId]);
    expectError(
      await old.get(`/api/organizations/${org.id}/`),
      401,
      "Personal API key has expired: organization 'Short Lived' allows keys to live at most 30 days.",
    );
  });
});
