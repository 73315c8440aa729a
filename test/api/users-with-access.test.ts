/**
 * Issue 24: who has access and why (PostHog's `users_with_access`), for a project, a resource type
 * and one object. The levels come from the same rules the routes enforce; the tests check both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, type Org, type Person } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

async function memberId(org: Org, person: Person): Promise<string> {
  const [row] = await server.db.query<{ id: string }>('SELECT id::text FROM organization_memberships WHERE organization_id = $1 AND user_id = $2', [
    org.id,
    person.user.id,
  ]);
  return row!.id;
}
const project = (org: Org, path = '') => `/api/projects/${org.defaultProjectId}/${path}`;
async function rule(org: Org, path: string, body: Record<string, unknown>) {
  const res = await org.owner.client.put(project(org, path), body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}
const entry = (body: any, person: Person) => body.users.find((u: any) => u.user_id === person.user.uuid);

describe('users with access', () => {
  let org: Org;
  let admin: Person;
  let member: Person;
  let other: Person;
  beforeAll(async () => {
    org = await newOrganization(server.url);
    admin = await addMember(org, 8);
    member = await addMember(org, 1);
    other = await addMember(org, 1);
  });

  it("answers PostHog's shape for the project, with the source and the reason", async () => {
    const res = await member.client.get(project(org, 'users_with_access/'));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.total_count).toBe(4);
    expect(entry(res.body, org.owner)).toMatchObject({
      access_level: 'admin',
      access_source: 'organization_admin',
      organization_membership_level: 'owner',
      organization_membership_id: await memberId(org, org.owner),
    });
    expect(entry(res.body, admin)).toMatchObject({ access_level: 'admin', access_source: 'organization_admin', organization_membership_level: 'admin' });
    expect(entry(res.body, member)).toMatchObject({
      access_level: 'member',
      access_source: 'default',
      reason: 'open project',
      organization_membership_level: 'member',
    });
  });

  it('a private project lists only who may enter it: explicit members and roles with a rule', async () => {
    const created = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'private', access_control: true });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    const explicit = await org.owner.client.post(`/api/projects/${id}/explicit_members/`, { user_uuid: member.user.uuid, level: 8 });
    expect(explicit.status, JSON.stringify(explicit.body)).toBe(201);
    const role = await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: 'Support' });
    expect(role.status).toBe(201);
    expect((await org.owner.client.post(`/api/organizations/${org.id}/roles/${role.body.id}/role_memberships/`, { user_uuid: other.user.uuid })).status).toBe(
      201,
    );
    const res = await org.owner.client.get(`/api/projects/${id}/users_with_access/`);
    expect(res.status).toBe(200);
    expect(entry(res.body, member)).toMatchObject({ access_level: 'admin', access_source: 'explicit_member', reason: 'explicit project membership' });
    expect(entry(res.body, other)).toBeUndefined();
    expect((await other.client.get(`/api/projects/${id}/`)).status).toBe(403);
    const put = await org.owner.client.put(`/api/projects/${id}/access_controls/`, { access_level: 'member', role: role.body.id });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const after = await org.owner.client.get(`/api/projects/${id}/users_with_access/`);
    expect(entry(after.body, other)).toMatchObject({ access_level: 'member', access_source: 'explicit_role' });
    expect((await other.client.get(`/api/projects/${id}/`)).status).toBe(200);
    // Someone outside the project may not ask who is inside it.
    const outsider = await addMember(org, 1);
    expectError(await outsider.client.get(`/api/projects/${id}/users_with_access/`), 403);
  });

  it('for a resource type: the project-wide rules, and the answer the routes enforce', async () => {
    await rule(org, 'resource_access_controls/', { resource: 'feature_flag', access_level: 'none' });
    await rule(org, 'resource_access_controls/', { resource: 'feature_flag', access_level: 'viewer', organization_member: await memberId(org, member) });
    const res = await member.client.get(project(org, 'users_with_access/feature_flag/'));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(entry(res.body, member)).toMatchObject({
      access_level: 'viewer',
      access_source: 'explicit_member',
      reason: 'highest project-wide rule for the resource',
    });
    expect(entry(res.body, org.owner)).toMatchObject({ access_level: 'manager', access_source: 'organization_admin' });
    // `other` has `none` from the default rule: not listed, and refused by the route itself.
    expect(entry(res.body, other)).toBeUndefined();
    expect((await other.client.get(project(org, 'feature_flags/'))).status).toBe(403);
    expect((await member.client.get(project(org, 'feature_flags/'))).status).toBe(200);
    expectError(await member.client.get(project(org, 'users_with_access/no_such_resource/')), 404);
  });

  it('with `member`: that member even without access, and every resource type', async () => {
    const res = await org.owner.client.get(project(org, `users_with_access/feature_flag/?member=${await memberId(org, other)}`));
    expect(res.status).toBe(200);
    expect(res.body.users).toHaveLength(1);
    const [only] = res.body.users;
    expect(only).toMatchObject({ user_id: other.user.uuid, access_level: 'none', access_source: 'default' });
    const flags = only.resources.find((r: any) => r.resource === 'feature_flag');
    expect(flags).toMatchObject({ access_level: 'none', can_read: false, can_write: false, access_source: 'default' });
    const dashboards = only.resources.find((r: any) => r.resource === 'dashboard');
    expect(dashboards).toMatchObject({ access_level: 'editor', can_read: true, can_write: true, reason: 'built-in default' });
    expectError(await org.owner.client.get(project(org, 'users_with_access/?member=not-a-member')), 404);
    expectError(await org.owner.client.get(project(org, 'users_with_access/?member=00000000-0000-4000-8000-000000000000')), 404);
  });

  it('for one object: its creator, its own rules, and PostHog’s precedence', async () => {
    const flag = await admin.client.post(project(org, 'feature_flags/'), { key: 'uwa-flag' });
    expect(flag.status, JSON.stringify(flag.body)).toBe(201);
    await rule(org, `feature_flags/${flag.body.id}/access_controls/`, { access_level: 'editor', organization_member: await memberId(org, member) });
    const res = await member.client.get(project(org, `feature_flags/${flag.body.id}/users_with_access/`));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // The creator comes first in PostHog's order, before being an admin.
    expect(entry(res.body, admin)).toMatchObject({ access_level: 'manager', access_source: 'creator' });
    expect(entry(res.body, org.owner)).toMatchObject({ access_level: 'manager', access_source: 'organization_admin' });
    expect(entry(res.body, member)).toMatchObject({ access_level: 'editor', access_source: 'explicit_member', reason: 'member or role rule on the object' });
    expect(entry(res.body, other)).toBeUndefined();
    // The creator, as a member: PostHog's `creator`.
    await rule(org, 'resource_access_controls/', { resource: 'feature_flag', access_level: 'editor', organization_member: await memberId(org, other) });
    const own = await other.client.post(project(org, 'feature_flags/'), { key: 'made-by-other' });
    expect(own.status).toBe(201);
    const mine = await other.client.get(project(org, `feature_flags/${own.body.id}/users_with_access/`));
    expect(entry(mine.body, other)).toMatchObject({ access_level: 'manager', access_source: 'creator' });
    expectError(await member.client.get(project(org, 'feature_flags/999999/users_with_access/')), 404);
  });

  it('keys need access_control:read', async () => {
    const without = await keyClient(member, ['feature_flag:read']);
    expectError(await without.get(project(org, 'users_with_access/')), 403, "API key missing required scope 'access_control:read'");
    const withScope = await keyClient(member, ['access_control:read']);
    expect((await withScope.get(project(org, 'users_with_access/'))).status).toBe(200);
  });
});
