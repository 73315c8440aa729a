import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, type Org, type Person } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const orgProjects = (org: Org) => `/api/organizations/${org.id}/projects/`;
const projectUrl = (id: number | string) => `/api/projects/${id}/`;

/** Creates a project as the organization's owner and returns its body. */
async function createProject(org: Org, body: Record<string, unknown> = { name: 'Production', access_control: true }) {
  const res = await org.owner.client.post(orgProjects(org), body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: number; name: string; api_token: string; access_control: boolean };
}

/** The organization's projects straight from the store: what requests really changed. */
async function projectRows(org: Org) {
  return server.db.query<{ id: number; name: string; access_control: boolean }>(
    'SELECT id, name, access_control FROM projects WHERE organization_id = $1 ORDER BY id',
    [org.id],
  );
}

async function projectRow(id: number) {
  const [row] = await server.db.query<{ id: number; name: string; access_control: boolean }>('SELECT id, name, access_control FROM projects WHERE id = $1', [
    id,
  ]);
  return row;
}

async function addExplicit(org: Org, projectId: number, person: Person, level: 1 | 8) {
  const res = await org.owner.client.post(`${projectUrl(projectId)}explicit_members/`, { user_uuid: person.user.uuid, level });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

/** Every place a person can see their projects: the level they see for `projectId` (undefined = hidden). */
async function seenLevels(org: Org, person: Person, projectId: number) {
  const all = await person.client.get('/api/projects/');
  const inOrg = await person.client.get(orgProjects(org));
  const organization = await person.client.get(`/api/organizations/${org.id}/`);
  expect(all.status).toBe(200);
  expect(inOrg.status).toBe(200);
  expect(organization.status).toBe(200);
  const find = (list: any[]) => list.find((p: any) => p.id === projectId)?.effective_membership_level as number | undefined;
  return {
    all: find(all.body.results),
    inOrg: find(inOrg.body.results),
    teams: find(organization.body.teams),
    inOrgCount: inOrg.body.count as number,
  };
}

describe('creating projects', () => {
  it('lets admins and owners create a project in PostHog shape', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    for (const [who, level] of [
      [org.owner, 15],
      [admin, 8],
    ] as const) {
      const res = await who.client.post(orgProjects(org), { name: `Production ${level}`, access_control: true });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      for (const field of ['id', 'uuid', 'organization', 'name', 'api_token', 'access_control', 'effective_membership_level', 'created_at']) {
        expect(res.body).toHaveProperty(field);
      }
      expect(typeof res.body.id).toBe('number');
      expect(res.body.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(res.body).toMatchObject({
        organization: org.id,
        name: `Production ${level}`,
        access_control: true,
        effective_membership_level: level,
      });
      expect(res.body.api_token).toMatch(/^phc_.{20,}/);
      expect(Number.isNaN(Date.parse(res.body.created_at))).toBe(false);
      // The created project is what the API then serves.
      const read = await who.client.get(projectUrl(res.body.id));
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id: res.body.id, uuid: res.body.uuid, api_token: res.body.api_token, access_control: true });
    }
    const rows = await projectRows(org);
    expect(rows.map((r) => r.id)).toContain(org.defaultProjectId);
    expect(rows.filter((r) => r.id !== org.defaultProjectId).map((r) => [r.name, r.access_control])).toEqual([
      ['Production 15', true],
      ['Production 8', true],
    ]);
  });

  it('defaults access_control to false and gives every project its own token', async () => {
    const org = await newOrganization(server.url);
    const a = await createProject(org, { name: 'A' });
    const b = await createProject(org, { name: 'B' });
    expect(a.access_control).toBe(false);
    expect(a.api_token).not.toBe(b.api_token);
    expect(a.id).not.toBe(b.id);
  });

  it('refuses members and creates nothing', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const before = await projectRows(org);
    expectError(
      await member.client.post(orgProjects(org), { name: 'Sneaky', access_control: true }),
      403,
      'You need to be an organization admin or above to create new projects.',
      null,
    );
    expect(await projectRows(org)).toEqual(before);
  });

  it('validates the body and creates nothing on error', async () => {
    const org = await newOrganization(server.url);
    const before = await projectRows(org);
    const blank = await org.owner.client.post(orgProjects(org), { name: '', access_control: true });
    expectError(blank, 400, 'This field may not be blank.', 'name');
    expect(blank.body.type).toBe('validation_error');
    expectError(await org.owner.client.post(orgProjects(org), { name: '   ' }), 400, 'This field may not be blank.', 'name');
    expectError(await org.owner.client.post(orgProjects(org), { access_control: true }), 400, 'This field is required.', 'name');
    const wrongType = await org.owner.client.post(orgProjects(org), { name: 'X', access_control: 'yes' });
    expectError(wrongType, 400, undefined, 'access_control');
    expect(wrongType.body.type).toBe('validation_error');
    expectError(await org.owner.client.post(orgProjects(org), { name: 42 }), 400, undefined, 'name');
    expect(await projectRows(org)).toEqual(before);
  });

  it('ignores server-owned fields in the body', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const existing = await createProject(org, { name: 'Existing' });
    const res = await org.owner.client.post(orgProjects(org), {
      name: 'Mine',
      access_control: false,
      id: existing.id,
      uuid: '00000000-0000-4000-8000-000000000000',
      api_token: existing.api_token,
      organization: other.id,
      created_at: '2001-01-01T00:00:00Z',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.id).not.toBe(existing.id);
    expect(res.body.uuid).not.toBe('00000000-0000-4000-8000-000000000000');
    expect(res.body.api_token).not.toBe(existing.api_token);
    expect(res.body.api_token).toMatch(/^phc_/);
    expect(res.body.organization).toBe(org.id);
    expect(new Date(res.body.created_at).getUTCFullYear()).toBeGreaterThan(2001);
    // The existing project is untouched, the other organization got nothing.
    expect(await projectRow(existing.id)).toMatchObject({ name: 'Existing' });
    expect((await projectRows(other)).map((p) => p.name)).not.toContain('Mine');
  });
});

describe('private projects', () => {
  it('are invisible and forbidden to members without an explicit membership', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const open = await createProject(org, { name: 'Open', access_control: false });
    const priv = await createProject(org, { name: 'Private', access_control: true });

    const seen = await seenLevels(org, member, priv.id);
    expect(seen).toMatchObject({ all: undefined, inOrg: undefined, teams: undefined });
    // ...while the open project is there, at the member's organization level.
    expect((await seenLevels(org, member, open.id)).inOrg).toBe(1);
    expect(seen.inOrgCount).toBe(2); // default project + Open
    expectError(await member.client.get(projectUrl(priv.id)), 403, "You don't have access to the project.", null);
  });

  it('are visible to admins (8) and owners (15) without explicit membership', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const priv = await createProject(org);
    expect(await seenLevels(org, admin, priv.id)).toMatchObject({ all: 8, inOrg: 8, teams: 8 });
    expect(await seenLevels(org, org.owner, priv.id)).toMatchObject({ all: 15, inOrg: 15, teams: 15 });
    expect((await admin.client.get(projectUrl(priv.id))).body.effective_membership_level).toBe(8);
    expect((await org.owner.client.get(projectUrl(priv.id))).body.effective_membership_level).toBe(15);
  });

  it('open to explicit members at max(explicit, organization level)', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const projectAdmin = await addMember(org, 1);
    const admin = await addMember(org, 8);
    const priv = await createProject(org);

    await addExplicit(org, priv.id, member, 1);
    expect(await seenLevels(org, member, priv.id)).toMatchObject({ all: 1, inOrg: 1, teams: 1 });
    const read = await member.client.get(projectUrl(priv.id));
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: priv.id, effective_membership_level: 1 });

    await addExplicit(org, priv.id, projectAdmin, 8);
    expect(await seenLevels(org, projectAdmin, priv.id)).toMatchObject({ all: 8, inOrg: 8, teams: 8 });
    expect((await projectAdmin.client.get(projectUrl(priv.id))).body.effective_membership_level).toBe(8);

    // An organization admin with an explicit member level keeps their higher organization level.
    await addExplicit(org, priv.id, admin, 1);
    expect(await seenLevels(org, admin, priv.id)).toMatchObject({ all: 8, inOrg: 8, teams: 8 });

    // Explicit membership of one private project opens no other.
    const second = await createProject(org, { name: 'Second', access_control: true });
    expect((await seenLevels(org, member, second.id)).inOrg).toBeUndefined();
    expectError(await member.client.get(projectUrl(second.id)), 403, "You don't have access to the project.");
  });
});

describe('projects of other organizations', () => {
  it('do not exist for outsiders, even their owners', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const open = await createProject(org, { name: 'Open', access_control: false });
    const priv = await createProject(org, { name: 'Private', access_control: true });
    for (const p of [open, priv]) {
      expectError(await other.owner.client.get(projectUrl(p.id)), 404, 'Project not found.', null);
      expectError(await other.owner.client.patch(projectUrl(p.id), { name: 'Hijacked' }), 404, 'Project not found.');
      expectError(await other.owner.client.delete(projectUrl(p.id)), 404, 'Project not found.');
      expect(await projectRow(p.id)).toMatchObject({ name: p.name });
    }
    // Nor do they appear in the outsider's lists.
    const list = await other.owner.client.get('/api/projects/');
    expect(list.body.results.map((p: any) => p.id)).not.toContain(open.id);
    expectError(await other.owner.client.get(orgProjects(org)), 404, 'Organization not found.');
  });

  it('answers 404 (not 500) for ids that are not project ids', async () => {
    const org = await newOrganization(server.url);
    const before = await projectRows(org);
    for (const id of ['abc', '12abc', '1.5', '99999999', '0', '-1', '99999999999999999999']) {
      expectError(await org.owner.client.get(projectUrl(id)), 404, 'Project not found.');
      expectError(await org.owner.client.patch(projectUrl(id), { name: 'x' }), 404, 'Project not found.');
      expectError(await org.owner.client.delete(projectUrl(id)), 404, 'Project not found.');
    }
    expect(await projectRows(org)).toEqual(before);
  });
});

describe('updating and deleting projects', () => {
  it('lets project members rename (PostHog), unless a project rule makes them only `member`', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const viewer = await addMember(org, 1);
    const projectAdmin = await addMember(org, 1);
    const priv = await createProject(org, { name: 'Production', access_control: true });
    await addExplicit(org, priv.id, viewer, 1);
    await addExplicit(org, priv.id, projectAdmin, 8);

    const byMember = await viewer.client.patch(projectUrl(priv.id), { name: 'Viewer was here' });
    expect(byMember.status, JSON.stringify(byMember.body)).toBe(200);
    expect(await projectRow(priv.id)).toMatchObject({ name: 'Viewer was here' });
    // A project rule naming them `member` stands below the `admin` a project write needs.
    const [membership] = await server.db.query<{ id: string }>('SELECT id FROM organization_memberships WHERE user_id = $1', [viewer.user.id]);
    const rule = await org.owner.client.put(`${projectUrl(priv.id)}access_controls/`, { access_level: 'member', organization_member: membership!.id });
    expect(rule.status, JSON.stringify(rule.body)).toBe(200);
    expectError(await viewer.client.patch(projectUrl(priv.id), { name: 'Again' }), 403, 'You do not have admin access to this resource.', null);
    expect(await projectRow(priv.id)).toMatchObject({ name: 'Viewer was here' });

    const byProjectAdmin = await projectAdmin.client.patch(projectUrl(priv.id), { name: 'Prod' });
    expect(byProjectAdmin.status, JSON.stringify(byProjectAdmin.body)).toBe(200);
    expect(byProjectAdmin.body).toMatchObject({ id: priv.id, name: 'Prod', effective_membership_level: 8 });
    expect(await projectRow(priv.id)).toMatchObject({ name: 'Prod' });

    const byAdmin = await admin.client.patch(projectUrl(priv.id), { name: 'Production EU' });
    expect(byAdmin.status).toBe(200);
    expect((await viewer.client.get(projectUrl(priv.id))).body.name).toBe('Production EU');

    expectError(await admin.client.patch(projectUrl(priv.id), { name: '' }), 400, 'This field may not be blank.', 'name');
    expect(await projectRow(priv.id)).toMatchObject({ name: 'Production EU' });

    // Server-owned fields in a patch are ignored.
    const [tokenBefore] = await server.db.query<{ api_token: string; organization_id: string }>(
      'SELECT api_token, organization_id FROM projects WHERE id = $1',
      [priv.id],
    );
    const other = await newOrganization(server.url);
    const ignored = await admin.client.patch(projectUrl(priv.id), { api_token: 'phc_mine', organization: other.id, id: 1 });
    expect(ignored.status).toBe(200);
    expect(ignored.body).toMatchObject({ id: priv.id, api_token: tokenBefore!.api_token, organization: org.id });
    const [tokenAfter] = await server.db.query('SELECT api_token, organization_id FROM projects WHERE id = $1', [priv.id]);
    expect(tokenAfter).toEqual(tokenBefore);
  });

  it('lets members of open projects update them, never delete them', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const open = await createProject(org, { name: 'Open', access_control: false });
    expect((await member.client.patch(projectUrl(open.id), { name: 'Mine' })).status).toBe(200);
    expectError(await member.client.delete(projectUrl(open.id)), 403, "You don't have sufficient permissions in the project.");
    expect(await projectRow(open.id)).toMatchObject({ name: 'Mine' });
  });

  it('needs an organization admin to toggle access_control', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const projectAdmin = await addMember(org, 1);
    const priv = await createProject(org, { name: 'Production', access_control: true });
    await addExplicit(org, priv.id, projectAdmin, 8);

    expectError(await projectAdmin.client.patch(projectUrl(priv.id), { access_control: false }), 403, 'Your organization access level is insufficient.', null);
    // Nothing of a refused patch applies, not even its other fields.
    expectError(
      await projectAdmin.client.patch(projectUrl(priv.id), { name: 'Renamed', access_control: false }),
      403,
      'Your organization access level is insufficient.',
    );
    expect(await projectRow(priv.id)).toMatchObject({ name: 'Production', access_control: true });
    // Sending the current value is no toggle.
    expect((await projectAdmin.client.patch(projectUrl(priv.id), { access_control: true })).status).toBe(200);

    const opened = await admin.client.patch(projectUrl(priv.id), { access_control: false });
    expect(opened.status).toBe(200);
    expect(opened.body.access_control).toBe(false);
    expect(await projectRow(priv.id)).toMatchObject({ access_control: false });
    const closed = await org.owner.client.patch(projectUrl(priv.id), { access_control: true });
    expect(closed.body.access_control).toBe(true);
    expectError(await admin.client.patch(projectUrl(priv.id), { access_control: 'no' }), 400, undefined, 'access_control');
    expect(await projectRow(priv.id)).toMatchObject({ access_control: true });
  });

  it('lets the owner delete a project, which is then gone', async () => {
    const org = await newOrganization(server.url);
    const viewer = await addMember(org, 1);
    const priv = await createProject(org);
    await addExplicit(org, priv.id, viewer, 1);
    expectError(await viewer.client.delete(projectUrl(priv.id)), 403, "You don't have sufficient permissions in the project.");
    expect(await projectRow(priv.id)).toBeDefined();

    const res = await org.owner.client.delete(projectUrl(priv.id));
    expect(res.status).toBe(204);
    expect(await projectRow(priv.id)).toBeUndefined();
    expectError(await org.owner.client.get(projectUrl(priv.id)), 404, 'Project not found.');
    expectError(await org.owner.client.delete(projectUrl(priv.id)), 404, 'Project not found.');
    expect((await seenLevels(org, org.owner, priv.id)).inOrg).toBeUndefined();
    const [{ n }] = (await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM explicit_project_memberships WHERE project_id = $1', [priv.id])) as [
      { n: number },
    ];
    expect(n).toBe(0);
  });
});

describe('project activity', () => {
  it("logs created, updated (with the name change) and deleted under scope 'Project'", async () => {
    const org = await newOrganization(server.url);
    const created = await createProject(org, { name: 'Staging', access_control: true });
    expect((await org.owner.client.patch(projectUrl(created.id), { name: 'Staging EU' })).status).toBe(200);
    // A patch that changes nothing logs nothing.
    expect((await org.owner.client.patch(projectUrl(created.id), { name: 'Staging EU' })).status).toBe(200);
    expect((await org.owner.client.delete(projectUrl(created.id))).status).toBe(204);

    const rows = await server.db.query<{ activity: string; scope: string; team_id: number | null; detail: any }>(
      'SELECT activity, scope, team_id, detail FROM activity_log WHERE organization_id = $1 ORDER BY seq',
      [org.id],
    );
    const projectRowsLogged = rows.filter((r) => r.scope === 'Project' && r.team_id === created.id);
    expect(projectRowsLogged.map((r) => r.activity)).toEqual(['created', 'updated', 'deleted']);
    const [createdEntry, updated, deleted] = projectRowsLogged;
    expect(createdEntry!.detail.name).toBe('Staging');
    expect(updated!.detail.changes).toEqual([expect.objectContaining({ field: 'name', before: 'Staging', after: 'Staging EU' })]);
    expect(deleted!.detail.name).toBe('Staging EU');
  });

  it('logs nothing for refused changes', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const open = await createProject(org, { name: 'Open' });
    const count = async () =>
      (await server.db.query<{ n: number }>("SELECT count(*)::int AS n FROM activity_log WHERE organization_id = $1 AND scope = 'Project'", [org.id]))[0]!.n;
    const before = await count();
    await member.client.post(orgProjects(org), { name: 'No' });
    expect((await member.client.patch(projectUrl(open.id), { name: 'No', access_control: true })).status).toBe(403);
    await member.client.delete(projectUrl(open.id));
    await org.owner.client.post(orgProjects(org), { name: '' });
    expect(await count()).toBe(before);
  });
});

describe('project time zones', () => {
  it('accepts IANA names and rejects others, changing nothing', async () => {
    const org = await newOrganization(server.url);
    const path = `/api/projects/${org.defaultProjectId}/`;
    expect((await org.owner.client.patch(path, { timezone: 'Europe/Berlin' })).body.timezone).toBe('Europe/Berlin');
    expectError(await org.owner.client.patch(path, { timezone: 'Not/AZone' }), 400, '"Not/AZone" is not a valid choice.', 'timezone');
    expect((await org.owner.client.get(path)).body.timezone).toBe('Europe/Berlin');
    expectError(
      await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'TZ', timezone: 'Mars/Olympus' }),
      400,
      '"Mars/Olympus" is not a valid choice.',
      'timezone',
    );
  });
});
