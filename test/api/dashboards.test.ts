import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, type Org, type Person } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const dashboards = (projectId: number) => `/api/projects/${projectId}/dashboards/`;
const insights = (projectId: number) => `/api/projects/${projectId}/insights/`;

async function insight(org: Org, name: string, projectId = org.defaultProjectId, who: Person = org.owner) {
  const res = await who.client.post(insights(projectId), { name, query: { kind: 'InsightVizNode' } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: number; short_id: string };
}

async function dashboard(org: Org, body: Record<string, unknown> = { name: 'Main' }, who: Person = org.owner) {
  const res = await who.client.post(dashboards(org.defaultProjectId), body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function activity(projectId: number, itemId?: number) {
  return server.db.query<{ activity: string; detail: any }>(
    `SELECT activity, detail FROM activity_log WHERE team_id = $1 AND scope = 'Dashboard' AND ($2::text IS NULL OR item_id = $2) ORDER BY created_at, id`,
    [projectId, itemId === undefined ? null : String(itemId)],
  );
}

async function state(projectId: number) {
  return {
    dashboards: await server.db.query('SELECT * FROM dashboards WHERE team_id = $1 ORDER BY id', [projectId]),
    tiles: await server.db.query('SELECT t.* FROM dashboard_tiles t JOIN dashboards d ON d.id = t.dashboard_id WHERE d.team_id = $1 ORDER BY t.id', [
      projectId,
    ]),
    activity: await activity(projectId),
  };
}

describe('dashboards', () => {
  it("creates a dashboard with tiles in PostHog's shape and logs it once", async () => {
    const org = await newOrganization(server.url);
    const a = await insight(org, 'A');
    const b = await insight(org, 'B');
    const body = await dashboard(org, {
      name: 'Main',
      description: 'Top metrics',
      pinned: true,
      tiles: [{ insight: { id: a.id }, layouts: { sm: { x: 0, y: 0, w: 6, h: 5 } }, color: 'blue' }, { insight: { short_id: b.short_id } }],
    });
    expect(body).toMatchObject({ name: 'Main', description: 'Top metrics', pinned: true, deleted: false, created_by: { id: org.owner.user.id } });
    expect(body.tiles).toHaveLength(2);
    expect(body.tiles[0]).toMatchObject({
      layouts: { sm: { x: 0, y: 0, w: 6, h: 5 } },
      color: 'blue',
      insight: { id: a.id, name: 'A', dashboards: [body.id] },
    });
    expect(body.tiles[1].insight).toMatchObject({ id: b.id, short_id: b.short_id });
    const log = await activity(org.defaultProjectId, body.id);
    expect(log).toHaveLength(1);
    expect(log[0]!.activity).toBe('created');
    // The insight shows the dashboard it is on, as PostHog's `dashboards` field does.
    expect((await org.owner.client.get(`${insights(org.defaultProjectId)}${a.id}/`)).body.dashboards).toEqual([body.id]);
  });

  it('lists, retrieves, changes tiles, and soft-deletes, one activity entry per change', async () => {
    const org = await newOrganization(server.url);
    const a = await insight(org, 'A');
    const b = await insight(org, 'B');
    const d = await dashboard(org, { name: 'Ops', tiles: [{ insight: { id: a.id } }] });
    const url = `${dashboards(org.defaultProjectId)}${d.id}/`;
    const c = org.owner.client;
    const list = await c.get(dashboards(org.defaultProjectId));
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ count: 1, next: null, previous: null });
    expect(list.body.results[0]).toMatchObject({ id: d.id, name: 'Ops' });
    expect(list.body.results[0]).not.toHaveProperty('tiles');

    const added = await c.patch(url, { tiles: [{ insight: { id: b.id } }] });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body.tiles.map((t: any) => t.insight.id)).toEqual([a.id, b.id]);
    const tileA = added.body.tiles[0].id;
    const moved = await c.patch(url, { tiles: [{ id: tileA, layouts: { sm: { x: 6 } } }] });
    expect(moved.body.tiles[0].layouts).toEqual({ sm: { x: 6 } });
    const removed = await c.patch(url, { name: 'Operations', tiles: [{ id: tileA, deleted: true }] });
    expect(removed.body).toMatchObject({ name: 'Operations' });
    expect(removed.body.tiles.map((t: any) => t.insight.id)).toEqual([b.id]);
    // Sending the same state again is not a change.
    expect((await c.patch(url, { name: 'Operations' })).status).toBe(200);

    expect((await c.delete(url)).status).toBe(204);
    expectError(await c.get(url), 404);
    expect((await c.get(dashboards(org.defaultProjectId))).body.count).toBe(0);
    const log = await activity(org.defaultProjectId, d.id);
    expect(log.map((l) => l.activity)).toEqual(['created', 'updated', 'updated', 'updated', 'deleted']);
    expect(log[3]!.detail.changes.map((ch: any) => ch.field)).toEqual(['name', 'tiles']);
    // A deleted insight's tile disappears from the dashboard.
    const d2 = await dashboard(org, { name: 'Two', tiles: [{ insight: { id: a.id } }, { insight: { id: b.id } }] });
    expect((await c.delete(`${insights(org.defaultProjectId)}${a.id}/`)).status).toBe(204);
    expect((await c.get(`${dashboards(org.defaultProjectId)}${d2.id}/`)).body.tiles.map((t: any) => t.insight.id)).toEqual([b.id]);
  });

  it('refuses a tile with an insight of another project (or none at all), changing nothing', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const second = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Second' });
    const sameOrgOtherProject = await insight(org, 'elsewhere', second.body.id);
    const otherOrg = await insight(other, 'theirs');
    const mine = await insight(org, 'mine');
    const d = await dashboard(org, { name: 'D', tiles: [{ insight: { id: mine.id } }] });
    const c = org.owner.client;
    const url = dashboards(org.defaultProjectId);
    const before = await state(org.defaultProjectId);
    for (const foreign of [sameOrgOtherProject, otherOrg]) {
      expectError(
        await c.post(url, { name: 'X', tiles: [{ insight: { id: foreign.id } }] }),
        400,
        `Invalid pk "${foreign.id}" - object does not exist.`,
        'tiles__0__insight',
      );
      expectError(await c.patch(`${url}${d.id}/`, { tiles: [{ insight: { short_id: foreign.short_id } }] }), 400, undefined, 'tiles__0__insight');
      // Through the insight's own `dashboards` field, too.
      expectError(await c.patch(`${insights(org.defaultProjectId)}${mine.id}/`, { dashboards: [d.id, 999999] }), 400, undefined, 'dashboards');
    }
    expectError(await c.post(url, { name: 'X', tiles: [{ insight: { id: 2147483647 } }] }), 400, undefined, 'tiles__0__insight');
    expectError(await c.post(url, { name: 'X', tiles: [{ layouts: {} }] }), 400, undefined, 'tiles__0__insight');
    expectError(await c.patch(`${url}${d.id}/`, { tiles: [{ id: 999999, color: 'red' }] }), 400, undefined, 'tiles__0__id');
    expectError(await c.post(url, { name: 'X', tiles: 'all' }), 400, undefined, 'tiles');
    expectError(await c.post(url, { name: 'X', pinned: 'yes' }), 400, undefined, 'pinned');
    expectError(await c.post(url, { name: 'x'.repeat(401) }), 400, undefined, 'name');
    expectError(await c.get(`${url}abc/`), 404);
    expect(await state(org.defaultProjectId)).toEqual(before);
    // The other organization's dashboards list is untouched and unreachable.
    expectError(await c.get(dashboards(other.defaultProjectId)), 404, 'Project not found.');
  });

  it('hides tiles whose insight the caller may not view, and refuses members with none on dashboards', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const open = await insight(org, 'Open');
    const closed = await insight(org, 'Closed');
    const d = await dashboard(org, { name: 'Mixed', tiles: [{ insight: { id: open.id } }, { insight: { id: closed.id } }] });
    await server.db.query(`INSERT INTO access_controls (team_id, access_level, resource, resource_id) VALUES ($1, 'none', 'insight', $2)`, [
      org.defaultProjectId,
      String(closed.id),
    ]);
    const url = `${dashboards(org.defaultProjectId)}${d.id}/`;
    const seen = await member.client.get(url);
    expect(seen.status).toBe(200);
    expect(seen.body.tiles.map((t: any) => t.insight.id)).toEqual([open.id]);
    // Nor may they put it on a dashboard of their own.
    const theirs = await dashboard(org, { name: 'Theirs' }, member);
    expectError(
      await member.client.patch(`${dashboards(org.defaultProjectId)}${theirs.id}/`, { tiles: [{ insight: { id: closed.id } }] }),
      400,
      undefined,
      'tiles__0__insight',
    );

    await server.db.query(`INSERT INTO access_controls (team_id, access_level, resource) VALUES ($1, 'none', 'dashboard')`, [org.defaultProjectId]);
    const before = await state(org.defaultProjectId);
    expectError(await member.client.get(url), 403, 'You do not have viewer access to this resource.');
    expectError(await member.client.patch(url, { name: 'x' }), 403, 'You do not have editor access to this resource.');
    expectError(await member.client.delete(url), 403, 'You do not have editor access to this resource.');
    expectError(await member.client.post(dashboards(org.defaultProjectId), { name: 'new' }), 403, 'You do not have editor access to this resource.');
    expect(await state(org.defaultProjectId)).toEqual(before);
    // No access to dashboards and no grant on any: the list is refused, their own dashboard too
    // (PostHog's resource gate comes before the creator's right).
    expectError(await member.client.get(dashboards(org.defaultProjectId)), 403, 'You do not have viewer access to this resource.');
    expectError(await member.client.get(`${dashboards(org.defaultProjectId)}${theirs.id}/`), 403, 'You do not have viewer access to this resource.');
  });

  it('checks key scopes, and keeps private projects private', async () => {
    const org = await newOrganization(server.url);
    const d = await dashboard(org);
    const reader = await keyClient(org.owner, ['dashboard:read', 'insight:read', 'query:read']);
    expect((await reader.get(`${dashboards(org.defaultProjectId)}${d.id}/`)).status).toBe(200);
    expectError(await reader.patch(`${dashboards(org.defaultProjectId)}${d.id}/`, { name: 'x' }), 403, "API key missing required scope 'dashboard:write'");
    const member = await addMember(org, 1);
    const priv = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Private', access_control: true });
    const secret = await org.owner.client.post(dashboards(priv.body.id), { name: 'Secret' });
    expect(secret.status).toBe(201);
    expectError(await member.client.get(`${dashboards(priv.body.id)}${secret.body.id}/`), 403, "You don't have access to the project.");
    expectError(await (await newOrganization(server.url)).owner.client.get(dashboards(priv.body.id)), 404, 'Project not found.');
  });
});
