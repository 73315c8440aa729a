import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, type Org, type Person } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const base = (projectId: number) => `/api/projects/${projectId}/insights/`;
const trendsQuery = { kind: 'InsightVizNode', source: { kind: 'TrendsQuery', series: [{ kind: 'EventsNode', event: '$pageview' }] } };

async function create(org: Org, body: Record<string, unknown> = { name: 'Pageviews', query: trendsQuery }, who: Person = org.owner) {
  const res = await who.client.post(base(org.defaultProjectId), body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function activity(projectId: number, itemId?: number) {
  return server.db.query<{ activity: string; item_id: string; user_id: number | null; detail: any }>(
    `SELECT activity, item_id, user_id, detail FROM activity_log WHERE team_id = $1 AND scope = 'Insight' AND ($2::text IS NULL OR item_id = $2) ORDER BY created_at, id`,
    [projectId, itemId === undefined ? null : String(itemId)],
  );
}

/** The store's view of a project's insights and their activity: what requests really changed. */
async function state(projectId: number) {
  const insights = await server.db.query('SELECT id, name, description, query, filters, deleted FROM insights WHERE team_id = $1 ORDER BY id', [projectId]);
  const tiles = await server.db.query('SELECT t.* FROM dashboard_tiles t JOIN insights i ON i.id = t.insight_id WHERE i.team_id = $1 ORDER BY t.id', [
    projectId,
  ]);
  return { insights, tiles, activity: await activity(projectId) };
}

async function memberId(org: Org, person: Person): Promise<string> {
  const [row] = await server.db.query<{ id: string }>('SELECT id FROM organization_memberships WHERE organization_id = $1 AND user_id = $2', [
    org.id,
    person.user.id,
  ]);
  return row!.id;
}

describe('insights CRUD', () => {
  it("creates an insight in PostHog's shape and logs it", async () => {
    const org = await newOrganization(server.url);
    const body = await create(org, { name: 'Pageviews', description: 'Daily', query: trendsQuery, filters: { insight: 'TRENDS' } });
    expect(body).toMatchObject({
      name: 'Pageviews',
      description: 'Daily',
      query: trendsQuery,
      filters: { insight: 'TRENDS' },
      deleted: false,
      dashboards: [],
      created_by: { id: org.owner.user.id, email: org.owner.user.email },
    });
    expect(body.short_id).toMatch(/^[A-Za-z0-9]{8}$/);
    for (const field of ['id', 'created_at', 'updated_at', 'last_modified_at', 'result', 'tags', 'favorited']) expect(body).toHaveProperty(field);
    const log = await activity(org.defaultProjectId, body.id);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ activity: 'created', user_id: org.owner.user.id, detail: { name: 'Pageviews', short_id: body.short_id } });
  });

  it('retrieves by id or short_id, lists with filters, and keeps projects apart', async () => {
    const org = await newOrganization(server.url);
    const a = await create(org, { name: 'Alpha funnel' });
    const b = await create(org, { name: 'Beta retention' });
    const c = org.owner.client;
    for (const ref of [a.id, a.short_id]) {
      const res = await c.get(`${base(org.defaultProjectId)}${ref}/`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ id: a.id, short_id: a.short_id, name: 'Alpha funnel' });
    }
    const list = await c.get(base(org.defaultProjectId));
    expect(list.status).toBe(200);
    expect(Object.keys(list.body).sort()).toEqual(['count', 'next', 'previous', 'results']);
    expect(list.body.count).toBe(2);
    expect(list.body.results.map((i: any) => i.id).sort()).toEqual([a.id, b.id].sort());
    expect((await c.get(`${base(org.defaultProjectId)}?short_id=${b.short_id}`)).body.results.map((i: any) => i.id)).toEqual([b.id]);
    expect((await c.get(`${base(org.defaultProjectId)}?search=alpha`)).body.results.map((i: any) => i.id)).toEqual([a.id]);
    const paged = await c.get(`${base(org.defaultProjectId)}?limit=1`);
    expect(paged.body.results).toHaveLength(1);
    expect(paged.body.next).toMatch(/offset=1/);

    // Another project's insight is not found through this project.
    const second = await c.post(`/api/organizations/${org.id}/projects/`, { name: 'Second' });
    expectError(await c.get(`${base(second.body.id)}${a.id}/`), 404, 'Not found.');
    expectError(await c.patch(`${base(second.body.id)}${a.id}/`, { name: 'stolen' }), 404);
    expect((await c.get(base(second.body.id))).body.count).toBe(0);
  });

  it('updates with field-level changes in one activity entry, and logs nothing for a change that changes nothing', async () => {
    const org = await newOrganization(server.url);
    const insight = await create(org);
    const url = `${base(org.defaultProjectId)}${insight.id}/`;
    const res = await org.owner.client.patch(url, { name: 'Renamed', description: 'Now described', derived_name: 'ignored' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ name: 'Renamed', description: 'Now described', query: trendsQuery });
    const put = await org.owner.client.put(url, { query: null });
    expect(put.status).toBe(200);
    expect(put.body.query).toBeNull();
    expect((await org.owner.client.patch(url, { name: 'Renamed' })).status).toBe(200);
    const log = await activity(org.defaultProjectId, insight.id);
    expect(log.map((l) => l.activity)).toEqual(['created', 'updated', 'updated']);
    expect(log[1]!.detail.changes).toEqual([
      { type: 'Insight', action: 'changed', field: 'name', before: 'Pageviews', after: 'Renamed' },
      { type: 'Insight', action: 'changed', field: 'description', before: '', after: 'Now described' },
    ]);
    expect(log[2]!.detail.changes).toEqual([{ type: 'Insight', action: 'changed', field: 'query', before: trendsQuery, after: null }]);
  });

  it('soft-deletes through DELETE or PATCH {deleted: true}, and restores through PATCH {deleted: false}', async () => {
    const org = await newOrganization(server.url);
    const a = await create(org, { name: 'A' });
    const b = await create(org, { name: 'B' });
    const c = org.owner.client;
    const url = (i: { id: number }) => `${base(org.defaultProjectId)}${i.id}/`;
    expect((await c.delete(url(a))).status).toBe(204);
    expect((await c.patch(url(b), { deleted: true })).status).toBe(200);
    expectError(await c.get(url(a)), 404);
    expectError(await c.delete(url(a)), 404);
    expect((await c.get(base(org.defaultProjectId))).body.count).toBe(0);
    const rows = await server.db.query<{ deleted: boolean }>('SELECT deleted FROM insights WHERE id = ANY($1::int[])', [[a.id, b.id]]);
    expect(rows.map((r) => r.deleted)).toEqual([true, true]);
    const restored = await c.patch(url(a), { deleted: false });
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    expect((await c.get(url(a))).body.deleted).toBe(false);
    expect((await activity(org.defaultProjectId, a.id)).map((l) => l.activity)).toEqual(['created', 'deleted', 'updated']);
    expect((await activity(org.defaultProjectId, b.id)).map((l) => l.activity)).toEqual(['created', 'deleted']);
  });
});

describe('bad input', () => {
  it('refuses it in PostHog shape and changes nothing', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const insight = await create(org);
    const foreign = await other.owner.client.post(`/api/projects/${other.defaultProjectId}/dashboards/`, { name: 'Theirs' });
    expect(foreign.status).toBe(201);
    const c = org.owner.client;
    const url = base(org.defaultProjectId);
    const before = await state(org.defaultProjectId);
    expectError(await c.post(url, { name: 'x'.repeat(401) }), 400, 'Ensure this field has no more than 400 characters.', 'name');
    expectError(await c.post(url, { name: 7 }), 400, undefined, 'name');
    expectError(await c.post(url, { query: 'SELECT 1' }), 400, undefined, 'query');
    expectError(await c.post(url, { filters: [1, 2] }), 400, undefined, 'filters');
    expectError(await c.post(url, { name: 'x', dashboards: [foreign.body.id] }), 400, `Invalid pk "${foreign.body.id}" - object does not exist.`, 'dashboards');
    expectError(await c.post(url, { name: 'x', dashboards: ['1'] }), 400, undefined, 'dashboards__0');
    expectError(await c.post(url, { name: 'x', query: { 'k\u0000': 1 } }), 400, undefined, 'query');
    expectError(await c.request('POST', url, undefined, { raw: '{"name": ', headers: { 'content-type': 'application/json' } }), 400);
    expectError(await c.patch(`${url}${insight.id}/`, { deleted: 'yes' }), 400, undefined, 'deleted');
    expectError(await c.patch(`${url}${insight.id}/`, { dashboards: [foreign.body.id] }), 400, undefined, 'dashboards');
    expectError(await c.get(`${url}not-an-id!/`), 404);
    expect(await state(org.defaultProjectId)).toEqual(before);
  });
});

describe('access', () => {
  it('refuses members with none on insights and hides from lists what they may not see', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const owners = await create(org, { name: "Owner's" });
    const shared = await create(org, { name: 'Shared' });
    const mine = await create(org, { name: "Member's" }, member);
    await server.db.query(`INSERT INTO access_controls (team_id, access_level, resource) VALUES ($1, 'none', 'insight')`, [org.defaultProjectId]);
    await server.db.query(
      `INSERT INTO access_controls (team_id, access_level, resource, resource_id, organization_member_id) VALUES ($1, 'viewer', 'insight', $2, $3)`,
      [org.defaultProjectId, String(shared.id), await memberId(org, member)],
    );
    const url = base(org.defaultProjectId);
    const m = member.client;
    const before = await state(org.defaultProjectId);
    expectError(await m.get(`${url}${owners.id}/`), 403, 'You do not have viewer access to this resource.');
    expectError(await m.patch(`${url}${owners.id}/`, { name: 'mine now' }), 403, 'You do not have editor access to this resource.');
    expectError(await m.delete(`${url}${owners.id}/`), 403, 'You do not have editor access to this resource.');
    expectError(await m.post(url, { name: 'new' }), 403, 'You do not have editor access to this resource.');
    // Viewer on one object: readable, not writable.
    expect((await m.get(`${url}${shared.id}/`)).status).toBe(200);
    expectError(await m.patch(`${url}${shared.id}/`, { name: 'x' }), 403, 'You do not have editor access to this resource.');
    expect(await state(org.defaultProjectId)).toEqual(before);
    // Their own (creator), and what is granted to them, and nothing else.
    const list = await m.get(url);
    expect(list.status).toBe(200);
    expect(list.body.results.map((i: any) => i.id).sort()).toEqual([shared.id, mine.id].sort());
    expect(list.body.count).toBe(2);
    // Writing needs editor on insights or an editor grant on some insight first (PostHog's resource
    // gate), the creator's right to their own insight only after it.
    expectError(await m.patch(`${url}${mine.id}/`, { name: 'still mine' }), 403, 'You do not have editor access to this resource.');
    // The owner (an organization admin) is not affected.
    expect((await org.owner.client.get(url)).body.count).toBe(3);
  });

  it('checks key scopes, and keeps private projects private', async () => {
    const org = await newOrganization(server.url);
    const insight = await create(org);
    const url = base(org.defaultProjectId);
    const reader = await keyClient(org.owner, ['insight:read']);
    expect((await reader.get(url)).status).toBe(200);
    expect((await reader.get(`${url}${insight.short_id}/`)).status).toBe(200);
    expectError(await reader.post(url, { name: 'x' }), 403, "API key missing required scope 'insight:write'");
    expectError(await reader.delete(`${url}${insight.id}/`), 403, "API key missing required scope 'insight:write'");
    const writer = await keyClient(org.owner, ['insight:write']);
    expect((await writer.post(url, { name: 'by key' })).status).toBe(201);
    const unrelated = await keyClient(org.owner, ['dashboard:read']);
    expectError(await unrelated.get(url), 403, "API key missing required scope 'insight:read'");

    const member = await addMember(org, 1);
    const priv = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Private', access_control: true });
    const privUrl = base(priv.body.id);
    const secret = await org.owner.client.post(privUrl, { name: 'Secret' });
    expect(secret.status).toBe(201);
    expectError(await member.client.get(privUrl), 403, "You don't have access to the project.");
    expectError(await member.client.get(`${privUrl}${secret.body.id}/`), 403, "You don't have access to the project.");
    const stranger = (await newOrganization(server.url)).owner;
    expectError(await stranger.client.get(`${privUrl}${secret.body.id}/`), 404, 'Project not found.');
    expectError(await stranger.client.post(privUrl, { name: 'x' }), 404, 'Project not found.');
  });
});
