import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, type Org } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const members = (projectId: number) => `/api/projects/${projectId}/members/`;
const explicitMembers = (projectId: number) => `/api/projects/${projectId}/explicit_members/`;

async function createProject(org: Org, accessControl = true): Promise<number> {
  const res = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Production', access_control: accessControl });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** Explicit memberships of the project straight from the store: uuid -> level. */
async function explicitLevels(projectId: number): Promise<Record<string, number>> {
  const rows = await server.db.query<{ uuid: string; level: number }>(
    `SELECT u.uuid, e.level FROM explicit_project_memberships e
       JOIN organization_memberships m ON m.id = e.parent_membership_id
       JOIN users u ON u.id = m.user_id
      WHERE e.project_id = $1`,
    [projectId],
  );
  return Object.fromEntries(rows.map((r) => [r.uuid, Number(r.level)]));
}

/** A private project with a viewer (org member, explicit 1) and a project admin (org member, explicit 8). */
async function privateProjectWorld() {
  const org = await newOrganization(server.url);
  const projectId = await createProject(org);
  const viewer = await addMember(org, 1);
  const projectAdmin = await addMember(org, 1);
  const outsider = await addMember(org, 1);
  for (const [p, level] of [
    [viewer, 1],
    [projectAdmin, 8],
  ] as const) {
    const res = await org.owner.client.post(explicitMembers(projectId), { user_uuid: p.user.uuid, level });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  return { org, projectId, viewer, projectAdmin, outsider };
}

describe("the source document's members/ route", () => {
  it('adds with {user_id: uuid, level} and lists paginated; the same person is in explicit_members/', async () => {
    const org = await newOrganization(server.url);
    const projectId = await createProject(org);
    const member = await addMember(org, 1);

    const added = await org.owner.client.post(members(projectId), { user_id: member.user.uuid, level: 1 });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body).toMatchObject({ level: 1, effective_level: 1, user: { uuid: member.user.uuid, email: member.user.email } });

    const list = await org.owner.client.get(members(projectId));
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ count: 1, next: null, previous: null });
    expect(list.body.results).toHaveLength(1);
    const entry = list.body.results[0];
    expect(entry).toMatchObject({
      user: { uuid: member.user.uuid, email: member.user.email, first_name: 'Mel' },
      level: 1,
      effective_level: 1,
    });
    expect(entry.user).not.toHaveProperty('password_hash');
    expect(Number.isNaN(Date.parse(entry.joined_at))).toBe(false);

    // PostHog's route reads the same data, as a plain array with the parent membership.
    const explicit = await org.owner.client.get(explicitMembers(projectId));
    expect(explicit.status).toBe(200);
    expect(Array.isArray(explicit.body)).toBe(true);
    expect(explicit.body).toHaveLength(1);
    const orgMembers = await org.owner.client.get(`/api/organizations/${org.id}/members/`);
    const parent = orgMembers.body.results.find((m: any) => m.user.uuid === member.user.uuid);
    expect(explicit.body[0]).toMatchObject({
      id: entry.id,
      user: { uuid: member.user.uuid },
      level: 1,
      parent_level: 1,
      effective_level: 1,
      parent_membership_id: parent.id,
    });
    expect(explicit.body[0]).toHaveProperty('updated_at');

    // And the member really has access now.
    const project = await member.client.get(`/api/projects/${projectId}/`);
    expect(project.status).toBe(200);
    expect(project.body.effective_membership_level).toBe(1);
  });

  it('accepts user_id as a numeric user id (number or digits) and user_uuid', async () => {
    const org = await newOrganization(server.url);
    const projectId = await createProject(org);
    const a = await addMember(org, 1);
    const b = await addMember(org, 1);
    const c = await addMember(org, 8);
    expect((await org.owner.client.post(members(projectId), { user_id: a.user.id, level: 8 })).status).toBe(201);
    expect((await org.owner.client.post(members(projectId), { user_id: String(b.user.id) })).status).toBe(201);
    expect((await org.owner.client.post(members(projectId), { user_uuid: c.user.uuid, level: 1 })).status).toBe(201);
    expect(await explicitLevels(projectId)).toEqual({ [a.user.uuid]: 8, [b.user.uuid]: 1, [c.user.uuid]: 1 });

    const list = await org.owner.client.get(members(projectId));
    expect(list.body.count).toBe(3);
    const byUuid = Object.fromEntries(list.body.results.map((r: any) => [r.user.uuid, r]));
    expect(byUuid[a.user.uuid]).toMatchObject({ level: 8, effective_level: 8 });
    expect(byUuid[b.user.uuid]).toMatchObject({ level: 1, effective_level: 1 });
    // Effective = max(explicit, organization level).
    expect(byUuid[c.user.uuid]).toMatchObject({ level: 1, effective_level: 8 });

    const paged = await org.owner.client.get(`${members(projectId)}?limit=2`);
    expect(paged.body.count).toBe(3);
    expect(paged.body.results).toHaveLength(2);
    expect(paged.body.next).toContain('offset=2');
  });

  it('requires a user reference', async () => {
    const org = await newOrganization(server.url);
    const projectId = await createProject(org);
    expectError(await org.owner.client.post(members(projectId), { level: 1 }), 400, 'This field is required.', 'user_uuid');
    expect(await explicitLevels(projectId)).toEqual({});
  });
});

describe("PostHog's explicit membership rules", () => {
  it('refuses projects that are not private', async () => {
    const org = await newOrganization(server.url);
    const open = await createProject(org, false);
    const member = await addMember(org, 1);
    const msg = 'Explicit members can only be accessed for projects with project-based permissioning enabled.';
    for (const url of [members(open), explicitMembers(open)]) {
      expectError(await org.owner.client.post(url, { user_uuid: member.user.uuid, level: 1 }), 400, msg, null);
      expectError(await org.owner.client.patch(`${url}${member.user.uuid}/`, { level: 8 }), 400, msg);
      expectError(await org.owner.client.delete(`${url}${member.user.uuid}/`), 400, msg);
    }
    expect(await explicitLevels(open)).toEqual({});
  });

  it('refuses adding yourself', async () => {
    const { org, projectId, projectAdmin } = await privateProjectWorld();
    const before = await explicitLevels(projectId);
    expectError(
      await org.owner.client.post(members(projectId), { user_id: org.owner.user.uuid, level: 1 }),
      403,
      "You can't explicitly add yourself to projects.",
      null,
    );
    expectError(
      await projectAdmin.client.post(explicitMembers(projectId), { user_uuid: projectAdmin.user.uuid, level: 8 }),
      403,
      "You can't explicitly add yourself to projects.",
    );
    expect(await explicitLevels(projectId)).toEqual(before);
  });

  it('refuses people outside the organization', async () => {
    const { org, projectId } = await privateProjectWorld();
    const stranger = await newOrganization(server.url);
    const before = await explicitLevels(projectId);
    const msg = 'You both need to belong to the same organization.';
    expectError(await org.owner.client.post(members(projectId), { user_id: stranger.owner.user.uuid, level: 1 }), 403, msg);
    expectError(await org.owner.client.post(members(projectId), { user_id: stranger.owner.user.id, level: 1 }), 403, msg);
    expectError(await org.owner.client.post(explicitMembers(projectId), { user_uuid: stranger.owner.user.uuid }), 403, msg);
    expectError(await org.owner.client.post(explicitMembers(projectId), { user_uuid: 'not-a-uuid' }), 403, msg);
    // Numeric ids nobody can have (beyond the id column's range) name nobody: no 500.
    expectError(await org.owner.client.post(members(projectId), { user_id: 99999999999, level: 1 }), 403, msg);
    expectError(await org.owner.client.post(members(projectId), { user_id: -1, level: 1 }), 403, msg);
    expect(await explicitLevels(projectId)).toEqual(before);
    // The stranger cannot reach the project either.
    expectError(await stranger.owner.client.get(`/api/projects/${projectId}/`), 404, 'Project not found.');
    expectError(await stranger.owner.client.get(members(projectId)), 404, 'Project not found.');
  });

  it('refuses duplicates through either route', async () => {
    const { org, projectId, viewer } = await privateProjectWorld();
    const before = await explicitLevels(projectId);
    const msg = 'This user likely already is an explicit member of the project.';
    expectError(await org.owner.client.post(members(projectId), { user_id: viewer.user.uuid, level: 8 }), 400, msg);
    expectError(await org.owner.client.post(explicitMembers(projectId), { user_uuid: viewer.user.uuid, level: 1 }), 400, msg);
    expect(await explicitLevels(projectId)).toEqual(before);
    expect((await org.owner.client.get(members(projectId))).body.count).toBe(2);
  });

  it('admits exactly one of two concurrent adds of the same person', async () => {
    const { org, projectId, outsider } = await privateProjectWorld();
    const [a, b] = await Promise.all([
      org.owner.client.post(members(projectId), { user_id: outsider.user.uuid, level: 1 }),
      org.owner.client.post(explicitMembers(projectId), { user_uuid: outsider.user.uuid, level: 8 }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 400]);
    expectError(a.status === 400 ? a : b, 400, 'This user likely already is an explicit member of the project.');
    const winner = a.status === 201 ? 1 : 8;
    expect((await explicitLevels(projectId))[outsider.user.uuid]).toBe(winner);
    const [{ n }] = (await server.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM activity_log WHERE team_id = $1 AND activity = 'project_member_added'",
      [projectId],
    )) as [{ n: number }];
    expect(n).toBe(3); // viewer, project admin, and the one winner
  });

  it('refuses writes by members without project admin', async () => {
    const { projectId, viewer, outsider, projectAdmin } = await privateProjectWorld();
    const before = await explicitLevels(projectId);
    const msg = "You don't have sufficient permissions in the project.";
    expectError(await viewer.client.post(members(projectId), { user_id: outsider.user.uuid, level: 1 }), 403, msg, null);
    expectError(await viewer.client.patch(`${members(projectId)}${projectAdmin.user.uuid}/`, { level: 1 }), 403, msg);
    expectError(await viewer.client.delete(`${explicitMembers(projectId)}${projectAdmin.user.uuid}/`), 403, msg);
    expect(await explicitLevels(projectId)).toEqual(before);
    // Reading is fine for an explicit member; a member without access gets PostHog's 403.
    expect((await viewer.client.get(members(projectId))).status).toBe(200);
    expectError(await outsider.client.get(members(projectId)), 403, "You don't have access to the project.");
    expectError(await outsider.client.post(members(projectId), { user_id: viewer.user.uuid, level: 8 }), 403, "You don't have access to the project.");
    expect(await explicitLevels(projectId)).toEqual(before);
  });

  it('validates the level', async () => {
    const { org, projectId, outsider, viewer } = await privateProjectWorld();
    const before = await explicitLevels(projectId);
    expectError(await org.owner.client.post(members(projectId), { user_id: outsider.user.uuid, level: 5 }), 400, '"5" is not a valid choice.', 'level');
    expectError(await org.owner.client.post(members(projectId), { user_id: outsider.user.uuid, level: 15 }), 400, undefined, 'level');
    expectError(await org.owner.client.post(members(projectId), { user_id: outsider.user.uuid, level: 'admin' }), 400, undefined, 'level');
    expectError(await org.owner.client.patch(`${members(projectId)}${viewer.user.uuid}/`, { level: 5 }), 400, undefined, 'level');
    expectError(await org.owner.client.patch(`${members(projectId)}${viewer.user.uuid}/`, {}), 400, 'This field is required.', 'level');
    expect(await explicitLevels(projectId)).toEqual(before);
  });

  it('lets a project admin (org member, explicit 8) add others, but not change their own level', async () => {
    const { org, projectId, projectAdmin, outsider } = await privateProjectWorld();
    const another = await addMember(org, 1);
    expect((await projectAdmin.client.post(members(projectId), { user_id: outsider.user.uuid, level: 1 })).status).toBe(201);
    expect((await projectAdmin.client.post(explicitMembers(projectId), { user_uuid: another.user.uuid, level: 8 })).status).toBe(201);
    expect(await explicitLevels(projectId)).toMatchObject({ [outsider.user.uuid]: 1, [another.user.uuid]: 8, [projectAdmin.user.uuid]: 8 });

    const msg = "You can't set your own access level.";
    expectError(await projectAdmin.client.patch(`${members(projectId)}${projectAdmin.user.uuid}/`, { level: 1 }), 403, msg, null);
    expectError(await projectAdmin.client.patch(`${explicitMembers(projectId)}@me/`, { level: 1 }), 403, msg);
    expect((await explicitLevels(projectId))[projectAdmin.user.uuid]).toBe(8);
  });
});

describe('changing and removing explicit members', () => {
  it('changes the level and removes; removal takes access away on the next request', async () => {
    const { org, projectId, viewer } = await privateProjectWorld();
    const changed = await org.owner.client.patch(`${members(projectId)}${viewer.user.uuid}/`, { level: 8 });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({ level: 8, effective_level: 8, user: { uuid: viewer.user.uuid } });
    expect((await explicitLevels(projectId))[viewer.user.uuid]).toBe(8);
    // Visible through the other route family and in the viewer's own access.
    const explicit = await org.owner.client.get(explicitMembers(projectId));
    expect(explicit.body.find((m: any) => m.user.uuid === viewer.user.uuid).level).toBe(8);
    expect((await viewer.client.get(`/api/projects/${projectId}/`)).body.effective_membership_level).toBe(8);

    // Back down through PostHog's route.
    const lowered = await org.owner.client.patch(`${explicitMembers(projectId)}${viewer.user.uuid}/`, { level: 1 });
    expect(lowered.status).toBe(200);
    expect(lowered.body).toMatchObject({ level: 1, parent_membership_id: expect.any(String) });
    expect((await viewer.client.get(`/api/projects/${projectId}/`)).body.effective_membership_level).toBe(1);

    const removed = await org.owner.client.delete(`${members(projectId)}${viewer.user.uuid}/`);
    expect(removed.status).toBe(204);
    expect(await explicitLevels(projectId)).not.toHaveProperty(viewer.user.uuid);
    expectError(await viewer.client.get(`/api/projects/${projectId}/`), 403, "You don't have access to the project.");
    const list = await viewer.client.get('/api/projects/');
    expect(list.body.results.map((p: any) => p.id)).not.toContain(projectId);
  });

  it('answers 404 for unknown and malformed uuids, changing nothing', async () => {
    const { org, projectId } = await privateProjectWorld();
    const before = await explicitLevels(projectId);
    const notMember = await addMember(org, 1);
    for (const base of [members(projectId), explicitMembers(projectId)]) {
      for (const who of ['00000000-0000-4000-8000-000000000000', notMember.user.uuid, 'not-a-uuid', '12345']) {
        expectError(await org.owner.client.patch(`${base}${who}/`, { level: 8 }), 404);
        expectError(await org.owner.client.delete(`${base}${who}/`), 404);
      }
    }
    expect(await explicitLevels(projectId)).toEqual(before);
    // A project id that is no project id: 404, not 500.
    for (const base of ['/api/projects/abc/members/', '/api/projects/abc/explicit_members/']) {
      expectError(await org.owner.client.get(base), 404, 'Project not found.');
      expectError(await org.owner.client.post(base, { user_uuid: notMember.user.uuid, level: 1 }), 404, 'Project not found.');
    }
    expect(await explicitLevels(projectId)).toEqual(before);
  });

  it('removes explicit memberships when the person leaves the organization', async () => {
    const { org, projectId, viewer, projectAdmin } = await privateProjectWorld();
    const second = await createProject(org);
    expect((await org.owner.client.post(members(second), { user_id: viewer.user.uuid, level: 8 })).status).toBe(201);

    const res = await org.owner.client.delete(`/api/organizations/${org.id}/members/${viewer.user.uuid}/`);
    expect(res.status).toBe(204);
    expect(await explicitLevels(projectId)).toEqual({ [projectAdmin.user.uuid]: 8 });
    expect(await explicitLevels(second)).toEqual({});
    const list = await org.owner.client.get(members(projectId));
    expect(list.body.results.map((m: any) => m.user.uuid)).toEqual([projectAdmin.user.uuid]);
    expect((await org.owner.client.get(explicitMembers(second))).body).toEqual([]);
    expectError(await viewer.client.get(`/api/projects/${projectId}/`), 404, 'Project not found.');
  });
});

describe('explicit membership activity', () => {
  it("logs added, level changed and removed under scope 'Organization'", async () => {
    const org = await newOrganization(server.url);
    const projectId = await createProject(org);
    const member = await addMember(org, 1);
    expect((await org.owner.client.post(members(projectId), { user_id: member.user.uuid, level: 1 })).status).toBe(201);
    expect((await org.owner.client.patch(`${members(projectId)}${member.user.uuid}/`, { level: 8 })).status).toBe(200);
    expect((await org.owner.client.delete(`${explicitMembers(projectId)}${member.user.uuid}/`)).status).toBe(204);
    // Refused writes log nothing.
    await org.owner.client.post(members(projectId), { user_id: org.owner.user.uuid, level: 1 });

    const rows = await server.db.query<{ activity: string; scope: string; team_id: number | null; detail: any }>(
      'SELECT activity, scope, team_id, detail FROM activity_log WHERE organization_id = $1 ORDER BY seq',
      [org.id],
    );
    const logged = rows.filter((r) => r.activity.startsWith('project_member_'));
    expect(logged.map((r) => [r.activity, r.scope, r.team_id])).toEqual([
      ['project_member_added', 'Organization', projectId],
      ['project_member_level_changed', 'Organization', projectId],
      ['project_member_removed', 'Organization', projectId],
    ]);
    expect(logged[1]!.detail.changes).toEqual([expect.objectContaining({ field: 'level', before: 1, after: 8 })]);
    expect(logged[0]!.detail.context).toMatchObject({ user_uuid: member.user.uuid, project_id: projectId });
  });
});
