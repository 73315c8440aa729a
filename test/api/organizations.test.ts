import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

describe('organizations', () => {
  it("has PostHog's fields and the source document's, hiding private projects from members", async () => {
    const org = await newOrganization(server.url, 'Shape Co');
    const member = await addMember(org, 1);
    const prod = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Production', access_control: true });
    const asOwner = await org.owner.client.get(`/api/organizations/${org.id}/`);
    expect(asOwner.status).toBe(200);
    for (const field of [
      'id',
      'name',
      'slug',
      'created_at',
      'updated_at',
      'membership_level',
      'member_count',
      'members_can_invite',
      'members_can_use_personal_api_keys',
      'enforce_2fa',
      'teams',
      'projects',
      'enforce_sso',
      'saml_enforcement',
      'membership_count',
    ]) {
      expect(asOwner.body, field).toHaveProperty(field);
    }
    expect(asOwner.body).toMatchObject({
      name: 'Shape Co',
      slug: 'shape-co',
      membership_level: 15,
      member_count: 2,
      membership_count: 2,
      enforce_sso: false,
      saml_enforcement: null,
    });
    expect(asOwner.body.teams.map((t: any) => t.id).sort()).toEqual([org.defaultProjectId, prod.body.id].sort());
    const asMember = await member.client.get(`/api/organizations/${org.id}/`);
    expect(asMember.body.membership_level).toBe(1);
    expect(asMember.body.teams.map((t: any) => t.id)).toEqual([org.defaultProjectId]);
    expect(asMember.body.projects.map((p: any) => p.id)).toEqual([org.defaultProjectId]);
    expect((await member.client.get('/api/organizations/@current/')).body.id).toBe(org.id);
  });

  it('creates an organization with its creator as owner and a default project', async () => {
    const org = await newOrganization(server.url);
    const created = await org.owner.client.post('/api/organizations/', { name: 'Second' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Second', membership_level: 15, member_count: 1 });
    expect(created.body.teams.map((t: any) => t.name)).toEqual(['Default project']);
    const list = await org.owner.client.get('/api/organizations/');
    expect(list.body.count).toBe(2);
    expectError(await org.owner.client.post('/api/organizations/', { name: '   ' }), 400, 'This field may not be blank.', 'name');
    expect((await org.owner.client.get('/api/organizations/')).body.count).toBe(2);
  });

  it('lets admins update and only owners delete', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const member = await addMember(org, 1);
    const path = `/api/organizations/${org.id}/`;
    expectError(await member.client.patch(path, { name: 'Member Co' }), 403, 'Your organization access level is insufficient.');
    const renamed = await admin.client.patch(path, { name: 'Admin Co', members_can_invite: false });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Admin Co', members_can_invite: false });
    expectError(await admin.client.delete(path), 403, 'Your organization access level is insufficient.');
    expect((await org.owner.client.get(path)).body.name).toBe('Admin Co');
    expect((await org.owner.client.delete(path)).status).toBe(204);
    expectError(await org.owner.client.get(path), 404, 'Organization not found.');
    expectError(await admin.client.get(`/api/projects/${org.defaultProjectId}/`), 404, 'Project not found.');

    // The log outlives the organization: the deletion and the update are both there.
    const entries = await server.db.query<{ activity: string; detail: any }>(
      "SELECT activity, detail FROM activity_log WHERE organization_id = $1 AND scope = 'Organization' AND item_id = $1::text ORDER BY seq",
      [org.id],
    );
    expect(entries.map((e) => e.activity)).toEqual(['created', 'updated', 'deleted']);
    expect(entries[1]!.detail.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'name', after: 'Admin Co' }),
        expect.objectContaining({ field: 'members_can_invite', before: true, after: false }),
      ]),
    );
  });
});
