import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, type Org, type Person } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const ADMIN_NEEDED = 'You need to have admin level or higher.';
const rolesUrl = (org: Org) => `/api/organizations/${org.id}/roles/`;
const roleUrl = (org: Org, id: string) => `${rolesUrl(org)}${id}/`;
const membershipsUrl = (org: Org, id: string) => `${roleUrl(org, id)}role_memberships/`;

async function createRole(org: Org, name: string, who: Person = org.owner) {
  const res = await who.client.post(rolesUrl(org), { name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; name: string };
}

async function assign(org: Org, roleId: string, person: Person) {
  const res = await org.owner.client.post(membershipsUrl(org, roleId), { user_uuid: person.user.uuid });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}

/** Everything a rejected request must leave alone: roles, role memberships, access controls, activity. */
async function snapshot(s: TestServer) {
  const out: Record<string, unknown> = {};
  // Security events (src/domain/activity/security-events.ts) are the one thing a rejected request may leave; the
  // hash-chain columns are filled in after commit, in the background, so they are not compared.
  for (const table of ['roles', 'role_memberships', 'access_controls', 'activity_log']) {
    out[table] = await s.db.query(
      `SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS d, count(*)::int AS n FROM ${table === 'activity_log' ? `(SELECT id, seq, organization_id, team_id, user_id, was_impersonated, is_system, activity, scope, item_id, detail, created_at FROM activity_log WHERE scope <> 'Security')` : table} t`,
    );
  }
  return out;
}

async function unchanged(batch: () => Promise<void>) {
  const before = await snapshot(server);
  await batch();
  expect(await snapshot(server)).toEqual(before);
}

async function activity(org: Org) {
  return server.db.query<{ activity: string; scope: string; item_id: string; detail: any; team_id: number | null }>(
    "SELECT activity, scope, item_id, detail, team_id FROM activity_log WHERE organization_id = $1 AND activity LIKE 'role%' ORDER BY seq",
    [org.id],
  );
}

describe('roles', () => {
  it("creates, reads, lists, renames and deletes a role in PostHog's shape", async () => {
    const org = await newOrganization(server.url);
    const c = org.owner.client;
    const created = await c.post(rolesUrl(org), { name: '  Engineering  ' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['created_at', 'created_by', 'id', 'is_default', 'members', 'name']);
    expect(created.body).toMatchObject({ name: 'Engineering', members: [], is_default: false });
    expect(created.body.created_by).toMatchObject({ id: org.owner.user.id, uuid: org.owner.user.uuid, email: org.owner.user.email });
    expect(created.body.id).toMatch(/^[0-9a-f-]{36}$/);

    const second = await createRole(org, 'Product');
    const list = await c.get(rolesUrl(org));
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ count: 2, next: null, previous: null });
    expect(list.body.results.map((r: any) => r.name)).toEqual(['Engineering', 'Product']);
    const page = await c.get(`${rolesUrl(org)}?limit=1&offset=1`);
    expect(page.body.results.map((r: any) => r.name)).toEqual(['Product']);
    expect(page.body.previous).toContain('offset=0');

    expect((await c.get(roleUrl(org, created.body.id))).body).toEqual(created.body);
    const renamed = await c.patch(roleUrl(org, created.body.id), { name: 'Eng' });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body.name).toBe('Eng');
    const put = await c.put(roleUrl(org, created.body.id), { name: 'Platform' });
    expect(put.body.name).toBe('Platform');
    // An empty PATCH changes nothing.
    expect((await c.patch(roleUrl(org, created.body.id), {})).body.name).toBe('Platform');

    expect((await c.delete(roleUrl(org, second.id))).status).toBe(204);
    expectError(await c.get(roleUrl(org, second.id)), 404, 'Not found.');
    expect((await c.get(rolesUrl(org))).body.count).toBe(1);
  });

  it('lets admins write, members only read, and keeps outsiders out', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const member = await addMember(org, 1);
    const outsider = (await newOrganization(server.url)).owner;
    const byAdmin = await createRole(org, 'Support', admin);
    await assign(org, byAdmin.id, member);

    // Members read everything.
    expect((await member.client.get(rolesUrl(org))).body.count).toBe(1);
    expect((await member.client.get(roleUrl(org, byAdmin.id))).body.members).toHaveLength(1);
    expect((await member.client.get(membershipsUrl(org, byAdmin.id))).body.count).toBe(1);

    const [membership] = (await member.client.get(membershipsUrl(org, byAdmin.id))).body.results;
    await unchanged(async () => {
      expectError(await member.client.post(rolesUrl(org), { name: 'Mine' }), 403, ADMIN_NEEDED);
      expectError(await member.client.patch(roleUrl(org, byAdmin.id), { name: 'Mine' }), 403, ADMIN_NEEDED);
      expectError(await member.client.put(roleUrl(org, byAdmin.id), { name: 'Mine' }), 403, ADMIN_NEEDED);
      expectError(await member.client.delete(roleUrl(org, byAdmin.id)), 403, ADMIN_NEEDED);
      expectError(await member.client.post(membershipsUrl(org, byAdmin.id), { user_uuid: member.user.uuid }), 403, ADMIN_NEEDED);
      expectError(await member.client.delete(`${membershipsUrl(org, byAdmin.id)}${membership.id}/`), 403, ADMIN_NEEDED);
      // Not even about roles that do not exist: the level is checked first.
      expectError(await member.client.delete(roleUrl(org, randomUUID())), 403, ADMIN_NEEDED);
      for (const [method, path] of [
        ['GET', rolesUrl(org)],
        ['POST', rolesUrl(org)],
        ['GET', roleUrl(org, byAdmin.id)],
        ['DELETE', roleUrl(org, byAdmin.id)],
        ['GET', membershipsUrl(org, byAdmin.id)],
        ['POST', membershipsUrl(org, byAdmin.id)],
      ] as const) {
        const res = await outsider.client.request(method, path, method === 'POST' ? { name: 'x', user_uuid: outsider.user.uuid } : undefined);
        expectError(res, 404, 'Organization not found.');
      }
    });
  });

  it('refuses duplicate names case-insensitively, also on rename, but lets a role change its own case', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const eng = await createRole(org, 'Engineering');
    const sales = await createRole(org, 'Sales');
    await unchanged(async () => {
      for (const name of ['Engineering', 'engineering', ' ENGINEERING ']) {
        expectError(await org.owner.client.post(rolesUrl(org), { name }), 400, 'There is already a role with this name.', 'name');
      }
      expectError(await org.owner.client.patch(roleUrl(org, sales.id), { name: 'engineering' }), 400, 'There is already a role with this name.', 'name');
    });
    expect((await org.owner.client.patch(roleUrl(org, eng.id), { name: 'ENGINEERING' })).body.name).toBe('ENGINEERING');
    // Another organization may use the same name.
    await createRole(other, 'Engineering');
  });

  it('admits exactly one of two concurrent creations of the same name', async () => {
    const org = await newOrganization(server.url);
    const results = await Promise.all([org.owner.client.post(rolesUrl(org), { name: 'Race' }), org.owner.client.post(rolesUrl(org), { name: 'race' })]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 400]);
    expectError(results.find((r) => r.status === 400)!, 400, 'There is already a role with this name.', 'name');
    expect((await org.owner.client.get(rolesUrl(org))).body.count).toBe(1);
  });

  it('validates names and ids in PostHog shape without changing anything', async () => {
    const org = await newOrganization(server.url);
    const role = await createRole(org, 'Valid');
    const c = org.owner.client;
    await unchanged(async () => {
      expectError(await c.post(rolesUrl(org), {}), 400, 'This field is required.', 'name');
      expectError(await c.post(rolesUrl(org), { name: '   ' }), 400, 'This field may not be blank.', 'name');
      expectError(await c.post(rolesUrl(org), { name: 'x'.repeat(201) }), 400, 'Ensure this field has no more than 200 characters.', 'name');
      expectError(await c.post(rolesUrl(org), { name: 42 }), 400, 'Not a valid string.', 'name');
      expectError(await c.post(rolesUrl(org), { name: null }), 400, 'Not a valid string.', 'name');
      expectError(await c.put(roleUrl(org, role.id), {}), 400, 'This field is required.', 'name');
      expectError(await c.patch(roleUrl(org, role.id), { name: ['a'] }), 400, 'Not a valid string.', 'name');
      for (const id of ['nope', '1', randomUUID(), "' OR 1=1 --"]) {
        expectError(await c.get(roleUrl(org, encodeURIComponent(id))), 404, 'Not found.');
        expectError(await c.patch(roleUrl(org, encodeURIComponent(id)), { name: 'y' }), 404, 'Not found.');
        expectError(await c.delete(roleUrl(org, encodeURIComponent(id))), 404, 'Not found.');
        expectError(await c.get(membershipsUrl(org, encodeURIComponent(id))), 404, 'Not found.');
      }
    });
    expect((await c.get(roleUrl(org, role.id))).body.name).toBe('Valid');
  });
});

describe('role memberships', () => {
  it("assigns and unassigns members in PostHog's shape", async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const role = await createRole(org, 'Engineering');
    const res = await org.owner.client.post(membershipsUrl(org, role.id), { user_uuid: member.user.uuid });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['expires_at', 'id', 'joined_at', 'organization_member', 'reason', 'role_id', 'updated_at', 'user']);
    expect(res.body.role_id).toBe(role.id);
    expect(res.body.user).toMatchObject({ uuid: member.user.uuid, email: member.user.email });
    expect(res.body.organization_member).toMatchObject({ level: 1, user: { uuid: member.user.uuid } });
    const members = await org.owner.client.get(`/api/organizations/${org.id}/members/`);
    const membershipId = members.body.results.find((m: any) => m.user.uuid === member.user.uuid).id;
    expect(res.body.organization_member.id).toBe(membershipId);

    const list = await org.owner.client.get(membershipsUrl(org, role.id));
    expect(list.body).toMatchObject({ count: 1, next: null, previous: null });
    expect(list.body.results[0]).toEqual(res.body);
    expect((await org.owner.client.get(`${membershipsUrl(org, role.id)}${res.body.id}/`)).body).toEqual(res.body);
    expect((await org.owner.client.get(roleUrl(org, role.id))).body.members).toEqual([res.body]);

    expect((await org.owner.client.delete(`${membershipsUrl(org, role.id)}${res.body.id}/`)).status).toBe(204);
    expect((await org.owner.client.get(membershipsUrl(org, role.id))).body.count).toBe(0);
    expectError(await org.owner.client.delete(`${membershipsUrl(org, role.id)}${res.body.id}/`), 404, 'Not found.');
  });

  it("refuses duplicates, strangers, bad uuids and other organizations' roles with PostHog's messages", async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const role = await createRole(org, 'Engineering');
    const foreignRole = await createRole(other, 'Theirs');
    await assign(org, role.id, member);
    const c = org.owner.client;
    await unchanged(async () => {
      expectError(await c.post(membershipsUrl(org, role.id), { user_uuid: member.user.uuid }), 400, 'User is already part of the role.', null);
      expectError(await c.post(membershipsUrl(org, role.id), { user_uuid: other.owner.user.uuid }), 400, 'User does not exist.', null);
      expectError(await c.post(membershipsUrl(org, role.id), { user_uuid: randomUUID() }), 400, 'User does not exist.', null);
      expectError(await c.post(membershipsUrl(org, role.id), { user_uuid: 'not-a-uuid' }), 400, 'Must be a valid UUID.', 'user_uuid');
      expectError(await c.post(membershipsUrl(org, role.id), {}), 400, 'This field is required.', 'user_uuid');
      expectError(await c.post(membershipsUrl(org, role.id), { user_uuid: 7 }), 400, 'Not a valid string.', 'user_uuid');
      for (const roleId of [randomUUID(), foreignRole.id, 'nope']) {
        expectError(await c.post(membershipsUrl(org, roleId), { user_uuid: member.user.uuid }), 400, 'Role does not exist.', null);
      }
      expectError(await c.get(membershipsUrl(org, foreignRole.id)), 404, 'Not found.');
      expectError(await c.delete(`${membershipsUrl(org, role.id)}${randomUUID()}/`), 404, 'Not found.');
      expectError(await c.delete(`${membershipsUrl(org, role.id)}nope/`), 404, 'Not found.');
      expectError(await c.get(`${membershipsUrl(org, role.id)}nope/`), 404, 'Not found.');
    });
  });

  it('goes away with the role (and with its access controls), and when the member leaves', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const leaver = await addMember(org, 1);
    const role = await createRole(org, 'Temp');
    await assign(org, role.id, member);
    await assign(org, role.id, leaver);
    const rule = await org.owner.client.put(`/api/projects/${org.defaultProjectId}/resource_access_controls/`, {
      resource: 'notebook',
      role: role.id,
      access_level: 'viewer',
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(200);
    expect((await leaver.client.delete(`/api/organizations/${org.id}/members/@me/`)).status).toBe(204);
    expect((await org.owner.client.get(membershipsUrl(org, role.id))).body.count).toBe(1);

    expect((await org.owner.client.delete(roleUrl(org, role.id))).status).toBe(204);
    expect(await server.db.query('SELECT 1 FROM role_memberships WHERE role_id = $1', [role.id])).toEqual([]);
    expect(await server.db.query('SELECT 1 FROM access_controls WHERE role_id = $1', [role.id])).toEqual([]);
    const removed = await server.db.query<{ activity: string; team_id: number; detail: any }>(
      "SELECT activity, team_id, detail FROM activity_log WHERE scope = 'AccessControl' AND item_id = $1 ORDER BY seq",
      [rule.body.id],
    );
    expect(removed.map((r) => r.activity)).toEqual(['created', 'deleted']);
    expect(removed[1]).toMatchObject({ team_id: org.defaultProjectId, detail: { context: { role: role.id, role_name: 'Temp', resource: 'notebook' } } });
  });
});

describe('keys and activity', () => {
  it('needs organization:read to read and organization:write to change roles', async () => {
    const org = await newOrganization(server.url);
    const role = await createRole(org, 'Keyed');
    const reader = await keyClient(org.owner, ['organization:read']);
    const writer = await keyClient(org.owner, ['organization:write']);
    const other = await keyClient(org.owner, ['project:write', 'organization_member:write']);
    expect((await reader.get(rolesUrl(org))).status).toBe(200);
    expect((await reader.get(membershipsUrl(org, role.id))).status).toBe(200);
    await unchanged(async () => {
      expectError(await reader.post(rolesUrl(org), { name: 'No' }), 403, "API key missing required scope 'organization:write'");
      expectError(await reader.delete(roleUrl(org, role.id)), 403, "API key missing required scope 'organization:write'");
      expectError(await other.get(rolesUrl(org)), 403, "API key missing required scope 'organization:read'");
    });
    expect((await writer.post(rolesUrl(org), { name: 'Yes' })).status).toBe(201);
    expect((await writer.get(rolesUrl(org))).body.count).toBe(2);
  });

  it("logs every change under scope 'Organization' with an activity naming the role", async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const role = await createRole(org, 'Logged');
    await org.owner.client.patch(roleUrl(org, role.id), { name: 'Logged' }); // no change, no entry
    await org.owner.client.patch(roleUrl(org, role.id), { name: 'Renamed' });
    const membership = await assign(org, role.id, member);
    await org.owner.client.delete(`${membershipsUrl(org, role.id)}${membership.id}/`);
    await org.owner.client.delete(roleUrl(org, role.id));

    const entries = await activity(org);
    expect(entries.map((e) => e.activity)).toEqual(['role_created', 'role_updated', 'role_assigned', 'role_unassigned', 'role_deleted']);
    for (const e of entries) {
      expect(e.scope).toBe('Organization');
      expect(e.activity).toContain('role');
      expect(e.team_id).toBeNull();
    }
    expect(entries[1]!.detail.changes).toEqual([{ type: 'Role', action: 'changed', field: 'name', before: 'Logged', after: 'Renamed' }]);
    expect(entries[2]!.detail.context).toMatchObject({ user_email: member.user.email, role_id: role.id, role_name: 'Renamed' });
    expect(entries[2]!.item_id).toBe(membership.id);
    expect(entries[4]!.detail).toMatchObject({ name: 'Renamed', context: { organization_id: org.id, role_id: role.id } });

    // The source document's step 4 finds them through the activity log's Organization scope.
    const step4 = await server.db.query<{ activity: string }>(
      "SELECT activity FROM activity_log WHERE organization_id = $1 AND scope = 'Organization' AND (activity LIKE '%role%' OR activity LIKE '%member%')",
      [org.id],
    );
    expect(step4.map((r) => r.activity)).toEqual(expect.arrayContaining(['role_created', 'role_assigned', 'member_joined']));
  });
});
