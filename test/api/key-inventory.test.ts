import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.js';
import { eventually } from '../helpers/https-receiver.js';
import { startNode, startServer, storeKind, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, type Org, type Person } from '../helpers/world.js';

/**
 * The organization's key inventory: admins list every member's keys that reach the organization
 * and revoke them, within the grant ceiling; revoking is logged and takes effect at once.
 */
describe('key inventory', () => {
  let server: TestServer;
  let org: Org;
  let admin: Person;
  let member: Person;
  const inventory = () => `/api/organizations/${org.id}/personal_api_keys/`;
  const flags = () => `/api/projects/${org.defaultProjectId}/feature_flags/`;

  beforeAll(async () => {
    server = await startServer();
    org = await newOrganization(server.url);
    admin = await addMember(org, 8);
    member = await addMember(org, 1);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("lists every member's keys with owner, confinement and masked value, never the secret", async () => {
    const memberKey = await keyClient(member, ['feature_flag:read'], { scoped_teams: [org.defaultProjectId] });
    const ownerKey = await keyClient(org.owner, ['*']);
    const res = await admin.client.get(inventory());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const mine = res.body.results.find((k: any) => k.id === memberKey.keyId);
    expect(mine).toMatchObject({
      label: 'k-feature_flag:read',
      scopes: ['feature_flag:read'],
      scoped_teams: [org.defaultProjectId],
      scoped_organizations: [],
      last_used_at: null,
      expires_at: null,
      owner: { uuid: member.user.uuid, email: member.user.email, level: 1, is_service_account: false },
      can_revoke: true,
    });
    expect(mine.mask_value).toMatch(/^phx_\.\.\.[A-Za-z0-9]{4}$/);
    expect(JSON.stringify(res.body)).not.toMatch(/secure_value|sha256\$/);
    // The owner's key is shown, and the admin (level 8) may not touch it.
    expect(res.body.results.find((k: any) => k.id === ownerKey.keyId)).toMatchObject({ owner: { level: 15 }, can_revoke: false });
    expect(res.body.count).toBe(res.body.results.length);
  });

  it('shows last use once a key is used', async () => {
    const key = await keyClient(member, ['feature_flag:read']);
    expect((await key.get(flags())).status).toBe(200);
    const res = await admin.client.get(inventory());
    expect(res.body.results.find((k: any) => k.id === key.keyId).last_used_at).not.toBeNull();
  });

  it("leaves out keys confined to another organization's projects", async () => {
    const other = await newOrganization(server.url);
    // The member also belongs to the other organization (set up directly: joining is not the point here).
    await server.db.query('INSERT INTO organization_memberships (organization_id, user_id, level) VALUES ($1, $2, 1)', [other.id, member.user.id]);
    const elsewhere = await keyClient(member, ['feature_flag:read'], { scoped_teams: [other.defaultProjectId] });
    const res = await admin.client.get(inventory());
    expect(res.body.results.map((k: any) => k.id)).not.toContain(elsewhere.keyId);
  });

  it('includes service-account keys', async () => {
    const account = await org.owner.client.post(`/api/organizations/${org.id}/service_accounts/`, { name: 'deploy bot' });
    expect(account.status, JSON.stringify(account.body)).toBe(201);
    const key = await org.owner.client.post(`/api/organizations/${org.id}/service_accounts/${account.body.id}/keys/`, {
      label: 'ci',
      scopes: ['feature_flag:read'],
      scoped_teams: [org.defaultProjectId],
    });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    const res = await admin.client.get(inventory());
    expect(res.body.results.find((k: any) => k.id === key.body.id)).toMatchObject({ owner: { is_service_account: true, level: 1 }, can_revoke: true });
  });

  it('is for admins only', async () => {
    expectError(await member.client.get(inventory()), 403, 'Your organization access level is insufficient.');
    const key = await keyClient(member, ['*']);
    expectError(await member.client.delete(`${inventory()}${key.keyId}/`), 403, 'Your organization access level is insufficient.');
    expect((await key.get(flags())).status).toBe(200);
  });

  it('revokes a key: logged in the same transaction, refused at once', async () => {
    const key = await keyClient(member, ['feature_flag:read']);
    expect((await key.get(flags())).status).toBe(200);
    const res = await admin.client.delete(`${inventory()}${key.keyId}/`);
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expectError(await key.get(flags()), 401);
    expect((await admin.client.get(inventory())).body.results.map((k: any) => k.id)).not.toContain(key.keyId);
    expect((await member.client.get('/api/personal_api_keys/')).body.map((k: any) => k.id)).not.toContain(key.keyId);
    const log = await org.owner.client.get(`/api/organizations/${org.id}/activity_log/?scope=Organization`);
    const entry = log.body.results.find((e: any) => e.activity === 'api_key_revoked' && e.item_id === key.keyId);
    expect(entry).toBeDefined();
    expect(entry.user.email).toBe(admin.user.email);
    expect(entry.detail.context).toMatchObject({ user_email: member.user.email, revoked_by_admin: true, revoked_in_organization_id: org.id });
  });

  it("refuses to touch a key of someone above the admin's level, and changes nothing", async () => {
    const ownerKey = await keyClient(org.owner, ['feature_flag:read']);
    expectError(await admin.client.delete(`${inventory()}${ownerKey.keyId}/`), 403, 'You can only edit others with level lower or equal to you.');
    expect((await ownerKey.get(flags())).status).toBe(200);
    const log = await org.owner.client.get(`/api/organizations/${org.id}/activity_log/?scope=Organization`);
    expect(log.body.results.some((e: any) => e.activity === 'api_key_revoked' && e.item_id === ownerKey.keyId)).toBe(false);
    // The owner may.
    expect((await org.owner.client.delete(`${inventory()}${ownerKey.keyId}/`)).status).toBe(204);
    expectError(await ownerKey.get(flags()), 401);
  });

  it('answers 404 for an unknown key or a key of another organization', async () => {
    expectError(await admin.client.delete(`${inventory()}no-such-key/`), 404);
    const other = await newOrganization(server.url);
    const outsider = await keyClient(other.owner, ['feature_flag:read']);
    expectError(await admin.client.delete(`${inventory()}${outsider.keyId}/`), 404);
    expect((await outsider.get(`/api/projects/${other.defaultProjectId}/feature_flags/`)).status).toBe(200);
  });

  it('takes keys with organization_member scopes: read to list, write to revoke', async () => {
    const reader = await keyClient(admin, ['organization_member:read']);
    expect((await reader.get(inventory())).status).toBe(200);
    const victim = await keyClient(member, ['feature_flag:read']);
    expectError(await reader.delete(`${inventory()}${victim.keyId}/`), 403, "API key missing required scope 'organization_member:write'");
    const writer = await keyClient(admin, ['organization_member:write']);
    expect((await writer.delete(`${inventory()}${victim.keyId}/`)).status).toBe(204);
  });
});

describe.runIf(storeKind === 'postgres')('key inventory on two nodes', () => {
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

  it("an admin's revocation on node A is refused on node B at once", async () => {
    const org = await newOrganization(a.url);
    const admin = await addMember(org, 8);
    const member = await addMember(org, 1);
    const created = await member.client.post('/api/personal_api_keys/', { label: 'two nodes', scopes: ['feature_flag:read'] });
    expect(created.status).toBe(201);
    const onB = new Client(b.url).withKey(created.body.value);
    const path = `/api/projects/${org.defaultProjectId}/feature_flags/`;
    // Warm node B's cache with the key.
    for (let i = 0; i < 2; i++) expect((await onB.get(path)).status).toBe(200);
    expect((await admin.client.delete(`/api/organizations/${org.id}/personal_api_keys/${created.body.id}/`)).status).toBe(204);
    await eventually('node B refuses the revoked key', async () => (await onB.get(path)).status === 401, 5_000);
    expectError(await onB.get(path), 401);
  });
});
