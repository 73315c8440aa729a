import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, PASSWORD } from '../helpers/world.js';
import { Client } from '../helpers/client.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

describe('service accounts', () => {
  it('are created by admins, listed as service accounts, and hold organization-scoped keys', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const member = await addMember(org, 1);
    const base = `/api/organizations/${org.id}/service_accounts/`;
    expectError(await member.client.post(base, { name: 'bi' }), 403, 'Your organization access level is insufficient.');
    expectError(await admin.client.post(base, { name: 'bi', level: 15 }), 400, '"15" is not a valid choice.', 'level');
    const created = await admin.client.post(base, { name: 'bi_service_account' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'bi_service_account', level: 1, is_service_account: true });

    const members = await org.owner.client.get(`/api/organizations/${org.id}/members/`);
    const entry = members.body.results.find((m: any) => m.user.uuid === created.body.uuid);
    expect(entry).toMatchObject({ is_service_account: true, level: 1 });
    expect(members.body.results.filter((m: any) => m.is_service_account)).toHaveLength(1);

    const key = await admin.client.post(`${base}${created.body.id}/keys/`, {
      label: 'bi',
      scopes: ['project:read', 'organization:read'],
      scoped_teams: [org.defaultProjectId],
    });
    expect(key.status).toBe(201);
    expect(key.body.scoped_organizations).toEqual([org.id]);
    const sa = new Client(server.url).withKey(key.body.value);
    expect((await sa.get(`/api/projects/${org.defaultProjectId}/`)).status).toBe(200);
    expectError(await sa.patch(`/api/projects/${org.defaultProjectId}/`, { name: 'x' }), 403, "API key missing required scope 'project:write'");

    // It keeps working after the admin who made it leaves.
    expect((await admin.client.delete(`/api/organizations/${org.id}/members/@me/`)).status).toBe(204);
    expect((await sa.get(`/api/projects/${org.defaultProjectId}/`)).status).toBe(200);

    // It cannot log in.
    const [row] = await server.db.query<{ email: string }>('SELECT email FROM users WHERE uuid = $1', [created.body.uuid]);
    expectError(await new Client(server.url).post('/api/login/', { email: row!.email, password: PASSWORD }), 400, 'Invalid email or password.');

    // Deleting it revokes its keys on the next request.
    expect((await org.owner.client.delete(`${base}${created.body.id}/`)).status).toBe(204);
    expectError(await sa.get(`/api/projects/${org.defaultProjectId}/`), 401);
    const activities = await server.db.query<{ activity: string }>(
      "SELECT activity FROM activity_log WHERE organization_id = $1 AND activity LIKE 'service_account_%' ORDER BY seq",
      [org.id],
    );
    expect(activities.map((a) => a.activity)).toEqual(['service_account_created', 'service_account_deleted']);
  });

  it('reach private projects only through explicit membership, and never another organization', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const prod = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Production', access_control: true });
    const base = `/api/organizations/${org.id}/service_accounts/`;
    const account = await org.owner.client.post(base, { name: 'flag_service_account' });
    expectError(
      await org.owner.client.post(`${base}${account.body.id}/keys/`, { label: 'f', scopes: ['*'], scoped_teams: [prod.body.id] }),
      400,
      'You must be a member of all teams that you are scoping the key to.',
    );
    expect((await org.owner.client.post(`/api/projects/${prod.body.id}/members/`, { user_id: account.body.uuid, level: 1 })).status).toBe(201);
    const key = await org.owner.client.post(`${base}${account.body.id}/keys/`, { label: 'f', scopes: ['*'], scoped_teams: [prod.body.id] });
    expect(key.status).toBe(201);
    const sa = new Client(server.url).withKey(key.body.value);
    expect((await sa.get(`/api/projects/${prod.body.id}/`)).body.effective_membership_level).toBe(1);
    // A key confined to projects stays on project routes: no organization route, this one's or another's.
    expectError(await sa.get(`/api/organizations/${other.id}/`), 403, 'API keys with scoped projects are only supported on project-based views.');
    expectError(await sa.get(`/api/organizations/${org.id}/`), 403, 'API keys with scoped projects are only supported on project-based views.');
    expectError(await other.owner.client.get(`${base}`), 404, 'Organization not found.');
  });
});
