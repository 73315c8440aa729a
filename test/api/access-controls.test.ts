import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, type Org, type Person } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const NO_PROJECT = "You don't have access to the project.";
const PROJECT_LEVELS = ['none', 'member', 'admin'];
const RESOURCE_LEVELS = ['none', 'viewer', 'editor', 'manager'];

const projectAc = (projectId: number) => `/api/projects/${projectId}/access_controls/`;
const resourceAc = (projectId: number) => `/api/projects/${projectId}/resource_access_controls/`;
const objectAc = (projectId: number, path: string, id: number | string) => `/api/projects/${projectId}/${path}/${id}/access_controls/`;

type ObjectKind = 'feature_flag' | 'insight' | 'dashboard' | 'session_recording';
const PATHS: Record<ObjectKind, string> = {
  feature_flag: 'feature_flags',
  insight: 'insights',
  dashboard: 'dashboards',
  session_recording: 'session_recordings',
};

/** An object of the project, straight into its table (the resource routes are other modules' work). */
async function makeObject(kind: ObjectKind, projectId: number, creator: Person | null): Promise<string> {
  const by = creator?.user.id ?? null;
  const tag = randomBytes(4).toString('hex');
  const [sql, params]: [string, unknown[]] =
    kind === 'feature_flag'
      ? ['INSERT INTO feature_flags (team_id, key, created_by_id) VALUES ($1, $2, $3) RETURNING id::text AS id', [projectId, `flag-${tag}`, by]]
      : kind === 'insight'
        ? ['INSERT INTO insights (team_id, short_id, created_by_id) VALUES ($1, $2, $3) RETURNING id::text AS id', [projectId, tag, by]]
        : kind === 'dashboard'
          ? ['INSERT INTO dashboards (team_id, name, created_by_id) VALUES ($1, $2, $3) RETURNING id::text AS id', [projectId, `d-${tag}`, by]]
          : [
              `INSERT INTO session_recordings (id, team_id, distinct_id, start_time, end_time) VALUES ($1, $2, 'd', now(), now()) RETURNING id`,
              [randomUUID(), projectId],
            ];
  const [row] = await server.db.query<{ id: string }>(sql, params);
  return row!.id;
}

async function memberId(org: Org, person: Person): Promise<string> {
  const res = await org.owner.client.get(`/api/organizations/${org.id}/members/?email=${encodeURIComponent(person.user.email)}`);
  return res.body.results[0].id;
}

async function createRole(org: Org, name = `r-${randomBytes(3).toString('hex')}`): Promise<string> {
  const res = await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function giveRole(org: Org, roleId: string, person: Person) {
  const res = await org.owner.client.post(`/api/organizations/${org.id}/roles/${roleId}/role_memberships/`, { user_uuid: person.user.uuid });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function put(client: Client, url: string, body: Record<string, unknown>) {
  const res = await client.put(url, body);
  expect([200, 204], `${url} ${JSON.stringify(body)} -> ${JSON.stringify(res.body)}`).toContain(res.status);
  return res;
}

async function snapshot() {
  const out: Record<string, unknown> = {};
  // Security events (src/domain/activity/security-events.ts) are the one thing a rejected request may leave; the
  // hash-chain columns are filled in after commit, in the background, so they are not compared.
  for (const table of ['access_controls', 'activity_log', 'roles', 'role_memberships']) {
    out[table] = await server.db.query(
      `SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS d, count(*)::int AS n FROM ${table === 'activity_log' ? `(SELECT id, seq, organization_id, team_id, user_id, was_impersonated, is_system, activity, scope, item_id, detail, created_at FROM activity_log WHERE scope <> 'Security')` : table} t`,
    );
  }
  return out;
}
async function unchanged(batch: () => Promise<void>) {
  const before = await snapshot();
  await batch();
  expect(await snapshot()).toEqual(before);
}

async function privateProject(org: Org, name = 'Production'): Promise<number> {
  const res = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name, access_control: true });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** Where a person sees the project: its level from GET /api/projects/:id/ and whether lists show it. */
async function reach(person: Person, org: Org, projectId: number) {
  const one = await person.client.get(`/api/projects/${projectId}/`);
  const list = await person.client.get(`/api/organizations/${org.id}/projects/`);
  const listed = list.body.results.find((p: any) => p.id === projectId);
  if (one.status === 200) expect(listed?.effective_membership_level).toBe(one.body.effective_membership_level);
  else {
    expectError(one, 403, NO_PROJECT);
    expect(listed).toBeUndefined();
  }
  return one.status === 200 ? (one.body.effective_membership_level as number) : null;
}

describe('project access controls', () => {
  it("reads and upserts rules in PostHog's shape; a null level deletes with 204", async () => {
    const org = await newOrganization(server.url);
    const url = projectAc(org.defaultProjectId);
    const empty = await org.owner.client.get(url);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({
      access_controls: [],
      available_access_levels: PROJECT_LEVELS,
      default_access_level: 'admin',
      minimum_access_level: 'none',
      maximum_access_level: 'admin',
      user_access_level: 'admin',
      user_can_edit_access_levels: true,
    });

    const created = await org.owner.client.put(url, { access_level: 'member' });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(Object.keys(created.body).sort()).toEqual(
      // PostHog's fields, and Warden's time-bound grant terms (expires_at, reason).
      ['access_level', 'created_at', 'created_by', 'id', 'organization_member', 'resource', 'resource_id', 'role', 'updated_at', 'expires_at', 'reason'].sort(),
    );
    expect(created.body).toMatchObject({
      access_level: 'member',
      resource: 'project',
      resource_id: String(org.defaultProjectId),
      organization_member: null,
      role: null,
      created_by: org.owner.user.id,
    });
    const updated = await org.owner.client.put(url, { access_level: 'none', resource: 'ignored' });
    expect(updated.body).toMatchObject({ id: created.body.id, access_level: 'none', resource: 'project' });
    expect((await org.owner.client.get(url)).body.access_controls).toEqual([updated.body]);

    const deleted = await org.owner.client.put(url, { access_level: null });
    expect(deleted.status).toBe(204);
    expect((await org.owner.client.get(url)).body.access_controls).toEqual([]);
    expect((await org.owner.client.put(url, { access_level: null })).status).toBe(204);
  });

  it('lets project admins and organization admins change the rules, and nobody else', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const member = await addMember(org, 1);
    const projectAdmin = await addMember(org, 1);
    const project = await privateProject(org);
    for (const [p, level] of [
      [member, 1],
      [projectAdmin, 8],
    ] as const) {
      const res = await org.owner.client.post(`/api/projects/${project}/explicit_members/`, { user_uuid: p.user.uuid, level });
      expect(res.status).toBe(201);
    }
    const asMember = await member.client.get(projectAc(project));
    expect(asMember.body).toMatchObject({ user_access_level: 'member', user_can_edit_access_levels: false });
    expect((await projectAdmin.client.get(projectAc(project))).body).toMatchObject({ user_access_level: 'admin', user_can_edit_access_levels: true });
    await unchanged(async () => {
      expectError(await member.client.put(projectAc(project), { access_level: 'admin' }), 403, 'Must be admin to modify project permissions.');
      expectError(
        await member.client.put(projectAc(project), { access_level: 'admin', organization_member: await memberId(org, member) }),
        403,
        'Must be admin to modify project permissions.',
      );
    });
    await put(projectAdmin.client, projectAc(project), { access_level: 'member', organization_member: await memberId(org, admin) });
    await put(admin.client, projectAc(project), { access_level: 'admin', organization_member: await memberId(org, member) });
    expect(await reach(member, org, project)).toBe(8);
  });

  it('validates levels, members and roles with PostHog messages, changing nothing', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const role = await createRole(org);
    const foreignRole = await createRole(other);
    const foreignMember = await memberId(other, other.owner);
    const url = projectAc(org.defaultProjectId);
    const c = org.owner.client;
    const invalidLevel = 'Invalid access level. Must be one of: none, member, admin';
    await unchanged(async () => {
      for (const level of ['viewer', 'manager', 'ADMIN', '', 'owner']) {
        expectError(await c.put(url, { access_level: level }), 400, invalidLevel, 'access_level');
      }
      expectError(await c.put(url, {}), 400, 'This field is required.', 'access_level');
      expectError(await c.put(url, { access_level: 8 }), 400, undefined, 'access_level');
      expectError(await c.put(url, { access_level: ['admin'] }), 400, undefined, 'access_level');
      expectError(
        await c.put(url, { access_level: 'member', organization_member: await memberId(org, member), role }),
        400,
        'You can not scope an access control to both a member and a role.',
        null,
      );
      expectError(
        await c.put(url, { access_level: 'member', organization_member: 'nope' }),
        400,
        "Invalid organization member id. Use the 'id' field from the /api/organizations/<organization_id>/members/ endpoint.",
        'organization_member',
      );
      for (const id of [randomUUID(), foreignMember]) {
        expectError(
          await c.put(url, { access_level: 'member', organization_member: id }),
          400,
          `Invalid pk "${id}" - object does not exist.`,
          'organization_member',
        );
      }
      for (const id of [randomUUID(), foreignRole, 'nope']) {
        expectError(await c.put(url, { access_level: 'member', role: id }), 400, `Invalid pk "${id}" - object does not exist.`, 'role');
      }
      expectError(await c.put(url, { access_level: 'member', role: 5 }), 400, undefined, 'role');
      expectError(await c.put(url, { access_level: 'member', organization_member: { id: 1 } }), 400, undefined, 'organization_member');
      // A project that is not there, or not a number.
      for (const id of ['999999', 'x', '-1']) expectError(await c.put(projectAc(id as unknown as number), { access_level: 'member' }), 404);
    });
    // An empty member or role is the default row, as DRF reads '' for a relation.
    const row = await put(c, url, { access_level: 'member', organization_member: '', role: null });
    expect(row.body).toMatchObject({ organization_member: null, role: null });
  });

  it("logs each change under scope 'AccessControl' with the project, the level before and after, and the target", async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const mid = await memberId(org, member);
    const url = projectAc(org.defaultProjectId);
    const created = await put(org.owner.client, url, { access_level: 'member', organization_member: mid });
    await put(org.owner.client, url, { access_level: 'member', organization_member: mid }); // unchanged: no entry
    await put(org.owner.client, url, { access_level: 'admin', organization_member: mid });
    await put(org.owner.client, url, { access_level: null, organization_member: mid });
    const entries = await server.db.query<{ activity: string; scope: string; team_id: number; organization_id: string; item_id: string; detail: any }>(
      "SELECT activity, scope, team_id, organization_id, item_id, detail FROM activity_log WHERE scope = 'AccessControl' AND item_id = $1 ORDER BY seq",
      [created.body.id],
    );
    expect(entries.map((e) => e.activity)).toEqual(['created', 'updated', 'deleted']);
    expect(entries.map((e) => e.detail.changes[0])).toEqual([
      { type: 'AccessControl', action: 'created', field: 'access_level', before: null, after: 'member' },
      { type: 'AccessControl', action: 'changed', field: 'access_level', before: 'member', after: 'admin' },
      { type: 'AccessControl', action: 'deleted', field: 'access_level', before: 'admin', after: null },
    ]);
    for (const e of entries) {
      expect(e).toMatchObject({ team_id: org.defaultProjectId, organization_id: org.id });
      expect(e.detail.context).toMatchObject({
        resource: 'project',
        resource_id: String(org.defaultProjectId),
        member: mid,
        role: null,
        member_email: member.user.email,
      });
    }
  });

  it('takes access_control:read to read and access_control:write to change', async () => {
    const org = await newOrganization(server.url);
    const reader = await keyClient(org.owner, ['access_control:read']);
    const writer = await keyClient(org.owner, ['access_control:write']);
    const unrelated = await keyClient(org.owner, ['project:write']);
    const url = projectAc(org.defaultProjectId);
    expect((await reader.get(url)).status).toBe(200);
    await unchanged(async () => {
      expectError(await reader.put(url, { access_level: 'member' }), 403, "API key missing required scope 'access_control:write'");
      expectError(await unrelated.get(url), 403, "API key missing required scope 'access_control:read'");
    });
    expect((await writer.put(url, { access_level: 'member' })).status).toBe(200);
    expect((await writer.get(url)).body.access_controls).toHaveLength(1);
  });
});

describe('project rows decide who reaches the project', () => {
  it('member and role rows win for organization members: admin -> 8, member -> 1, none -> no access', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const mid = await memberId(org, member);
    const url = projectAc(org.defaultProjectId);
    const project = org.defaultProjectId;
    expect(await reach(member, org, project)).toBe(1);

    await put(org.owner.client, url, { access_level: 'none', organization_member: mid });
    expect(await reach(member, org, project)).toBeNull();
    await put(org.owner.client, url, { access_level: 'admin', organization_member: mid });
    expect(await reach(member, org, project)).toBe(8);
    // A project admin through a rule may manage the project.
    expect((await member.client.patch(`/api/projects/${project}/`, { name: 'Renamed by rule' })).status).toBe(200);
    await put(org.owner.client, url, { access_level: null, organization_member: mid });

    const role = await createRole(org);
    await giveRole(org, role, member);
    await put(org.owner.client, url, { access_level: 'none', role });
    expect(await reach(member, org, project)).toBeNull();
    // The highest of the member's rows wins.
    await put(org.owner.client, url, { access_level: 'member', organization_member: mid });
    expect(await reach(member, org, project)).toBe(1);
  });

  it('the default row applies to members without their own row; organization admins keep their level', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const member = await addMember(org, 1);
    const favoured = await addMember(org, 1);
    const project = org.defaultProjectId;
    await put(org.owner.client, projectAc(project), { access_level: 'none' });
    await put(org.owner.client, projectAc(project), { access_level: 'member', organization_member: await memberId(org, favoured) });
    expect(await reach(member, org, project)).toBeNull();
    expect(await reach(favoured, org, project)).toBe(1);
    expect(await reach(admin, org, project)).toBe(8);
    expect(await reach(org.owner, org, project)).toBe(15);
    // Rules about admins change nothing for them.
    await put(org.owner.client, projectAc(project), { access_level: 'none', organization_member: await memberId(org, admin) });
    expect(await reach(admin, org, project)).toBe(8);
    expect((await admin.client.get('/api/users/@me/')).status).toBe(200);
  });

  it('rows override the private flag and explicit memberships; without rows the legacy rule stays', async () => {
    const org = await newOrganization(server.url);
    const outsiderOfP = await addMember(org, 1);
    const explicitAdmin = await addMember(org, 1);
    const project = await privateProject(org);
    expect((await org.owner.client.post(`/api/projects/${project}/explicit_members/`, { user_uuid: explicitAdmin.user.uuid, level: 8 })).status).toBe(201);
    expect(await reach(outsiderOfP, org, project)).toBeNull();
    expect(await reach(explicitAdmin, org, project)).toBe(8);

    await put(org.owner.client, projectAc(project), { access_level: 'member' });
    expect(await reach(outsiderOfP, org, project)).toBe(1);
    await put(org.owner.client, projectAc(project), { access_level: 'member', organization_member: await memberId(org, explicitAdmin) });
    expect(await reach(explicitAdmin, org, project)).toBe(1);
    expectError(
      await explicitAdmin.client.post(`/api/projects/${project}/explicit_members/`, { user_uuid: outsiderOfP.user.uuid, level: 1 }),
      403,
      "You don't have sufficient permissions in the project.",
    );

    await put(org.owner.client, projectAc(project), { access_level: null });
    await put(org.owner.client, projectAc(project), { access_level: null, organization_member: await memberId(org, explicitAdmin) });
    expect(await reach(outsiderOfP, org, project)).toBeNull();
    expect(await reach(explicitAdmin, org, project)).toBe(8);
  });
});

describe('project-wide (resource-level) access controls', () => {
  it("reads and writes rows without a resource id, under both names, in PostHog's shape", async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const url = resourceAc(org.defaultProjectId);
    const empty = await member.client.get(url);
    expect(empty.body).toEqual({
      access_controls: [],
      available_access_levels: RESOURCE_LEVELS,
      default_access_level: 'editor',
      minimum_access_level: 'none',
      maximum_access_level: 'manager',
      user_access_level: 'member',
      user_can_edit_access_levels: false,
    });
    const row = await put(org.owner.client, url, { resource: 'feature_flag', access_level: 'viewer', resource_id: '123' });
    expect(row.body).toMatchObject({ resource: 'feature_flag', resource_id: null, access_level: 'viewer', organization_member: null, role: null });
    await put(org.owner.client, `/api/projects/${org.defaultProjectId}/global_access_controls/`, { resource: 'insight', access_level: 'none' });
    for (const path of [url, `/api/projects/${org.defaultProjectId}/global_access_controls/`]) {
      const res = await org.owner.client.get(path);
      expect(res.body.access_controls.map((r: any) => [r.resource, r.access_level])).toEqual([
        ['feature_flag', 'viewer'],
        ['insight', 'none'],
      ]);
      expect(res.body).toMatchObject({ user_access_level: 'admin', user_can_edit_access_levels: true });
    }
    // Project rules are not project-wide resource rules.
    await put(org.owner.client, projectAc(org.defaultProjectId), { access_level: 'member' });
    expect((await org.owner.client.get(url)).body.access_controls).toHaveLength(2);
  });

  it('needs an organization admin, even for a project admin', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const projectAdmin = await addMember(org, 1);
    const admin = await addMember(org, 8);
    const project = await privateProject(org);
    await org.owner.client.post(`/api/projects/${project}/explicit_members/`, { user_uuid: projectAdmin.user.uuid, level: 8 });
    await org.owner.client.post(`/api/projects/${project}/explicit_members/`, { user_uuid: member.user.uuid, level: 1 });
    await unchanged(async () => {
      for (const who of [member, projectAdmin]) {
        expectError(
          await who.client.put(resourceAc(project), { resource: 'dashboard', access_level: 'none' }),
          403,
          'Must be an Organization admin to modify project-wide permissions.',
        );
      }
    });
    expect((await projectAdmin.client.get(resourceAc(project))).body.user_can_edit_access_levels).toBe(false);
    await put(admin.client, resourceAc(project), { resource: 'dashboard', access_level: 'none' });
  });

  it('validates the resource and the levels it can take', async () => {
    const org = await newOrganization(server.url);
    const url = resourceAc(org.defaultProjectId);
    const c = org.owner.client;
    await unchanged(async () => {
      expectError(await c.put(url, { access_level: 'viewer' }), 400, 'This field is required.', 'resource');
      for (const resource of ['spaceship', 'project', 'organization', '', 'FEATURE_FLAG']) {
        expectError(await c.put(url, { resource, access_level: 'viewer' }), 400, /^Invalid resource\. Must be one of: action, /, 'resource');
      }
      expectError(await c.put(url, { resource: 7, access_level: 'viewer' }), 400, undefined, 'resource');
      expectError(
        await c.put(url, { resource: 'feature_flag', access_level: 'admin' }),
        400,
        'Invalid access level. Must be one of: none, viewer, editor, manager',
        'access_level',
      );
      expectError(
        await c.put(url, { resource: 'activity_log', access_level: 'editor' }),
        400,
        'Invalid access level. Must be one of: none, viewer',
        'access_level',
      );
      expectError(
        await c.put(url, { resource: 'action', access_level: 'none' }),
        400,
        "Access level cannot be set below the minimum 'viewer' for action.",
        'access_level',
      );
    });
    await put(c, url, { resource: 'action', access_level: 'viewer' });
    await put(c, url, { resource: 'activity_log', access_level: 'none' });
  });
});

describe('object access controls', () => {
  it('work for feature flags, insights, dashboards and session recordings, and 404 for anything else', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const secondProject = (await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Second' })).body.id as number;
    for (const kind of Object.keys(PATHS) as ObjectKind[]) {
      const id = await makeObject(kind, org.defaultProjectId, org.owner);
      const url = objectAc(org.defaultProjectId, PATHS[kind], id);
      const view = await org.owner.client.get(url);
      expect(view.status, `${kind}: ${JSON.stringify(view.body)}`).toBe(200);
      expect(view.body).toMatchObject({
        access_controls: [],
        available_access_levels: RESOURCE_LEVELS,
        default_access_level: 'editor',
        user_access_level: 'manager',
      });
      const row = await put(org.owner.client, url, { access_level: 'viewer', resource: 'project' });
      expect(row.body).toMatchObject({ resource: kind, resource_id: id, access_level: 'viewer' });
      expect((await org.owner.client.get(url)).body.access_controls).toEqual([row.body]);

      await unchanged(async () => {
        const foreign = await makeObject(kind, secondProject, org.owner);
        const theirs = await makeObject(kind, other.defaultProjectId, other.owner);
        for (const bad of [kind === 'session_recording' ? randomUUID() : '99999999', foreign, theirs, 'x'.repeat(300), '1.5', '-1']) {
          expectError(await org.owner.client.get(objectAc(org.defaultProjectId, PATHS[kind], bad)), 404, 'Not found.');
          expectError(await org.owner.client.put(objectAc(org.defaultProjectId, PATHS[kind], bad), { access_level: 'none' }), 404, 'Not found.');
        }
        // The outsider does not learn that the project exists.
        expectError(await other.owner.client.get(url), 404, 'Project not found.');
        await server.db.query(`DELETE FROM ${PATHS[kind]} WHERE id::text = $1 OR id::text = $2`, [foreign, theirs]);
      });
    }
    // Deleted objects are gone for their rules too.
    const flag = await makeObject('feature_flag', org.defaultProjectId, org.owner);
    await server.db.query('UPDATE feature_flags SET deleted = true WHERE id = $1', [Number(flag)]);
    expectError(await org.owner.client.get(objectAc(org.defaultProjectId, 'feature_flags', flag)), 404, 'Not found.');
  });

  it('resolves none/viewer/editor/manager for a member through a member row, a role row and the default row', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const mid = await memberId(org, member);
    const role = await createRole(org);
    await giveRole(org, role, member);
    const project = org.defaultProjectId;
    const levelSeen = async (url: string) => {
      const res = await member.client.get(url);
      if (res.status === 403) {
        expectError(res, 403, 'You do not have viewer access to this resource.');
        return 'none';
      }
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.user_access_level as string;
    };

    for (const [via, target] of [
      ['member', { organization_member: mid }],
      ['role', { role }],
      ['default', {}],
    ] as const) {
      for (const level of RESOURCE_LEVELS) {
        // On the object itself.
        const flag = await makeObject('feature_flag', project, org.owner);
        const url = objectAc(project, 'feature_flags', flag);
        expect(await levelSeen(url), `built-in default before the ${via} row`).toBe('editor');
        await put(org.owner.client, url, { access_level: level, ...target });
        expect(await levelSeen(url), `${via} row ${level} on the object`).toBe(level);
        expect((await member.client.get(url)).status === 200 && (await member.client.get(url)).body.user_can_edit_access_levels).toBe(level === 'manager');

        // On the whole resource type (project-wide), seen through any object of it.
        const insight = await makeObject('insight', project, org.owner);
        await put(org.owner.client, resourceAc(project), { resource: 'insight', access_level: level, ...target });
        expect(await levelSeen(objectAc(project, 'insights', insight)), `${via} row ${level} on the resource`).toBe(level);
        await put(org.owner.client, resourceAc(project), { resource: 'insight', access_level: null, ...target });
      }
    }
  });

  it("follows PostHog's resolution order: creator, admins, the caller's rows on the object, the project-wide rows, the object's default", async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const admin = await addMember(org, 8);
    const mid = await memberId(org, member);
    const project = org.defaultProjectId;
    const own = await makeObject('dashboard', project, member);
    const flag = await makeObject('dashboard', project, org.owner);
    const url = objectAc(project, 'dashboards', flag);
    const seen = async (p: Person, u = url) => (await p.client.get(u)).body.user_access_level;

    await put(org.owner.client, resourceAc(project), { resource: 'dashboard', access_level: 'none' });
    expect((await member.client.get(url)).status).toBe(403);
    expect(await seen(member, objectAc(project, 'dashboards', own))).toBe('manager'); // creator
    expect(await seen(admin)).toBe('manager'); // organization admin
    await put(org.owner.client, url, { access_level: 'viewer' });
    expect((await member.client.get(url)).status).toBe(403); // a project-wide rule comes before the object's default
    expect((await org.owner.client.put(resourceAc(project), { resource: 'dashboard', access_level: null })).status).toBe(204);
    expect(await seen(member)).toBe('viewer'); // without one, the object's default applies
    await put(org.owner.client, resourceAc(project), { resource: 'dashboard', access_level: 'editor', organization_member: mid });
    expect(await seen(member)).toBe('editor'); // the project-wide rows before the object's default
    await put(org.owner.client, url, { access_level: 'none', organization_member: mid });
    expect((await member.client.get(url)).status).toBe(403); // the caller's own row on the object before everything
    await put(org.owner.client, url, { access_level: 'manager', organization_member: mid });
    expect(await seen(member)).toBe('manager');
  });

  it('lets the creator, project admins, organization admins and managers change the rules', async () => {
    const org = await newOrganization(server.url);
    const creator = await addMember(org, 1);
    const manager = await addMember(org, 1);
    const editor = await addMember(org, 1);
    const projectAdmin = await addMember(org, 1);
    const admin = await addMember(org, 8);
    const project = await privateProject(org);
    for (const [p, level] of [
      [creator, 1],
      [manager, 1],
      [editor, 1],
      [projectAdmin, 8],
    ] as const) {
      expect((await org.owner.client.post(`/api/projects/${project}/explicit_members/`, { user_uuid: p.user.uuid, level })).status).toBe(201);
    }
    const flag = await makeObject('feature_flag', project, creator);
    const url = objectAc(project, 'feature_flags', flag);
    await put(org.owner.client, url, { access_level: 'manager', organization_member: await memberId(org, manager) });

    expect((await editor.client.get(url)).body).toMatchObject({ user_access_level: 'editor', user_can_edit_access_levels: false });
    await unchanged(async () => {
      expectError(await editor.client.put(url, { access_level: 'none' }), 403, 'Must be manager to modify feature_flag permissions.');
      expectError(
        await editor.client.put(url, { access_level: 'manager', organization_member: await memberId(org, editor) }),
        403,
        'Must be manager to modify feature_flag permissions.',
      );
    });
    for (const [who, level] of [
      [creator, 'viewer'],
      [manager, 'editor'],
      [projectAdmin, 'viewer'],
      [admin, 'editor'],
    ] as const) {
      expect((await who.client.get(url)).body.user_can_edit_access_levels).toBe(true);
      await put(who.client, url, { access_level: level, organization_member: await memberId(org, editor) });
    }
    // The last word was editor for the editor: still no right to change rules.
    expectError(await editor.client.put(url, { access_level: null }), 403, 'Must be manager to modify feature_flag permissions.');
    // A project admin ruled out of the object still manages its rules; a member ruled out does not see them.
    await put(org.owner.client, url, { access_level: 'none', organization_member: await memberId(org, projectAdmin) });
    await put(org.owner.client, url, { access_level: 'none', organization_member: await memberId(org, editor) });
    expect((await projectAdmin.client.get(url)).body).toMatchObject({ user_access_level: 'none', user_can_edit_access_levels: true });
    await put(projectAdmin.client, url, { access_level: 'viewer', organization_member: await memberId(org, projectAdmin) });
    expectError(await editor.client.get(url), 403, 'You do not have viewer access to this resource.');
    expectError(await editor.client.put(url, { access_level: 'manager' }), 403, 'You do not have viewer access to this resource.');
    // Insights say so in their own words.
    const insight = await makeObject('insight', project, org.owner);
    expectError(
      await editor.client.put(objectAc(project, 'insights', insight), { access_level: 'none' }),
      403,
      'Must be manager to modify insight permissions.',
    );
  });

  it('keeps people outside the project out, whatever the rules say', async () => {
    const org = await newOrganization(server.url);
    const stranger = await addMember(org, 1);
    const project = await privateProject(org);
    const flag = await makeObject('feature_flag', project, org.owner);
    await put(org.owner.client, objectAc(project, 'feature_flags', flag), { access_level: 'manager', organization_member: await memberId(org, stranger) });
    await unchanged(async () => {
      for (const url of [objectAc(project, 'feature_flags', flag), projectAc(project), resourceAc(project)]) {
        expectError(await stranger.client.get(url), 403, NO_PROJECT);
        expectError(await stranger.client.put(url, { access_level: 'none', resource: 'notebook' }), 403, NO_PROJECT);
      }
    });
  });
});

describe('end to end through the resource routes', () => {
  it('hides a flag from a member whose rule says none', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const project = org.defaultProjectId;
    const hidden = await makeObject('feature_flag', project, org.owner);
    const shown = await makeObject('feature_flag', project, org.owner);
    await put(org.owner.client, objectAc(project, 'feature_flags', hidden), { access_level: 'none', organization_member: await memberId(org, member) });
    const list = await member.client.get(`/api/projects/${project}/feature_flags/`);
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    const ids = list.body.results.map((f: any) => String(f.id));
    expect(ids).toContain(shown);
    expect(ids).not.toContain(hidden);
    expectError(await member.client.get(`/api/projects/${project}/feature_flags/${hidden}/`), 403, 'You do not have viewer access to this resource.');
    expect((await org.owner.client.get(`/api/projects/${project}/feature_flags/`)).body.results.map((f: any) => String(f.id))).toContain(hidden);
  });
});

describe('what each level lets a member do on a flag, whichever rule grants it', () => {
  // Through the real feature-flag routes: none hides the flag, viewer reads it, editor changes it,
  // manager also changes who may do what. The same for a member row, a role row and the default row.
  const expectations = {
    none: { listed: false, read: 403, write: 403, rules: 403 },
    viewer: { listed: true, read: 200, write: 403, rules: 403 },
    editor: { listed: true, read: 200, write: 200, rules: 403 },
    manager: { listed: true, read: 200, write: 200, rules: 200 },
  } as const;

  it.each(['member row', 'role row', 'default row'] as const)('through a %s', async (source) => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const project = org.defaultProjectId;
    const target =
      source === 'member row'
        ? { organization_member: await memberId(org, member) }
        : source === 'role row'
          ? await (async () => {
              const role = await createRole(org);
              await giveRole(org, role, member);
              return { role };
            })()
          : {};
    for (const [level, want] of Object.entries(expectations)) {
      const flag = await makeObject('feature_flag', project, org.owner);
      await put(org.owner.client, objectAc(project, 'feature_flags', flag), { access_level: level, ...target });
      const item = `/api/projects/${project}/feature_flags/${flag}/`;
      const list = await member.client.get(`/api/projects/${project}/feature_flags/`);
      expect(
        list.body.results.some((f: any) => String(f.id) === flag),
        `${source} ${level} listed`,
      ).toBe(want.listed);
      expect((await member.client.get(item)).status, `${source} ${level} read`).toBe(want.read);
      expect((await member.client.patch(item, { name: `renamed-${level}` })).status, `${source} ${level} write`).toBe(want.write);
      const rules = await member.client.put(objectAc(project, 'feature_flags', flag), {
        access_level: 'viewer',
        organization_member: await memberId(org, org.owner),
      });
      expect(rules.status, `${source} ${level} rules ${JSON.stringify(rules.body)}`).toBe(want.rules);
    }
  });
});
