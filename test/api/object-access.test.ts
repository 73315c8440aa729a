/**
 * Issue 17: PostHog's precedence for object access, lists refused as a whole, and the activity log
 * passing the same object gate as the objects it describes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, type Org, type Person } from '../helpers/world.js';

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

/** One access-control row, written through the API as the organization's owner. */
async function rule(org: Org, path: string, body: Record<string, unknown>) {
  const res = await org.owner.client.put(`/api/projects/${org.defaultProjectId}/${path}`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

async function made(org: Org, path: string, body: Record<string, unknown>): Promise<number> {
  const res = await org.owner.client.post(`/api/projects/${org.defaultProjectId}/${path}/`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

describe("PostHog's precedence", () => {
  it("puts a project-wide rule before the object's own default", async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const flag = await made(org, 'feature_flags', { key: 'precedence' });
    await rule(org, 'resource_access_controls/', { resource: 'feature_flag', access_level: 'none' });
    await rule(org, `feature_flags/${flag}/access_controls/`, { access_level: 'editor' });
    expectError(
      await member.client.patch(`/api/projects/${org.defaultProjectId}/feature_flags/${flag}/`, { name: 'x' }),
      403,
      'You do not have editor access to this resource.',
    );

    const dashboard = await made(org, 'dashboards', { name: 'Open to editors' });
    await rule(org, 'resource_access_controls/', { resource: 'dashboard', access_level: 'editor' });
    await rule(org, `dashboards/${dashboard}/access_controls/`, { access_level: 'none' });
    const read = await member.client.get(`/api/projects/${org.defaultProjectId}/dashboards/${dashboard}/`);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
  });

  it('takes the highest of the project-wide rules that apply (default, member, role)', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    await rule(org, 'resource_access_controls/', { resource: 'insight', access_level: 'editor' });
    await rule(org, 'resource_access_controls/', { resource: 'insight', access_level: 'viewer', organization_member: await memberId(org, member) });
    const created = await member.client.post(`/api/projects/${org.defaultProjectId}/insights/`, { name: 'Mine' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  });

  it("lets the caller's own rows on the object come first", async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const flag = await made(org, 'feature_flags', { key: 'granted' });
    await rule(org, 'resource_access_controls/', { resource: 'feature_flag', access_level: 'viewer' });
    await rule(org, `feature_flags/${flag}/access_controls/`, { access_level: 'editor', organization_member: await memberId(org, member) });
    expect((await member.client.patch(`/api/projects/${org.defaultProjectId}/feature_flags/${flag}/`, { name: 'edited' })).status).toBe(200);
  });
});

describe('lists the caller may not read at all', () => {
  it("answer 403 with PostHog's message; a grant on one object opens the list to that object", async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const p = `/api/projects/${org.defaultProjectId}`;
    const flag = await made(org, 'feature_flags', { key: 'one' });
    await made(org, 'feature_flags', { key: 'two' });
    for (const resource of ['feature_flag', 'insight', 'dashboard', 'session_recording']) {
      await rule(org, 'resource_access_controls/', { resource, access_level: 'none' });
    }
    for (const path of ['feature_flags', 'insights', 'dashboards', 'session_recordings']) {
      expectError(await member.client.get(`${p}/${path}/`), 403, 'You do not have viewer access to this resource.', null);
    }
    await rule(org, `feature_flags/${flag}/access_controls/`, { access_level: 'viewer', organization_member: await memberId(org, member) });
    const list = await member.client.get(`${p}/feature_flags/`);
    expect(list.status).toBe(200);
    expect(list.body.results.map((f: { key: string }) => f.key)).toEqual(['one']);
  });
});

describe('the activity log passes the object gate', () => {
  it('keeps an entry about an object the reader may not view, without its detail', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const p = `/api/projects/${org.defaultProjectId}`;
    const flag = await made(org, 'feature_flags', { key: 'secret-launch', filters: { groups: [{ properties: [], rollout_percentage: 7 }] } });
    await rule(org, `feature_flags/${flag}/access_controls/`, { access_level: 'none', organization_member: await memberId(org, member) });
    const entries = async (client = member.client) => {
      const res = await client.get(`${p}/activity_log/?scope=FeatureFlag&item_id=${flag}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.results as Array<{ activity: string; detail: unknown }>;
    };
    const seen = await entries();
    expect(seen.map((e) => e.activity)).toEqual(['created']);
    expect(seen[0]!.detail).toBeNull();
    expect(JSON.stringify(seen)).not.toContain('secret-launch');
    expect(JSON.stringify(seen)).not.toContain('rollout_percentage');
    // The same through the organization's log; the owner sees everything.
    const orgLog = await member.client.get(`/api/organizations/${org.id}/activity_log/?scope=FeatureFlag&item_id=${flag}`);
    expect(orgLog.body.results.map((e: { detail: unknown }) => e.detail)).toEqual([null]);
    expect(JSON.stringify(await entries(org.owner.client))).toContain('secret-launch');
  });

  it('hides the detail of entries that name such an object too: a rule set on it', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const hidden = await made(org, 'feature_flags', { key: 'hidden-flag', filters: { groups: [{ properties: [], rollout_percentage: 5 }] } });
    const open = await made(org, 'feature_flags', { key: 'open-flag', filters: { groups: [{ properties: [], rollout_percentage: 5 }] } });
    await rule(org, `feature_flags/${open}/access_controls/`, { access_level: 'editor' });
    await rule(org, `feature_flags/${hidden}/access_controls/`, { access_level: 'none', organization_member: await memberId(org, member) });
    const res = await member.client.get(`/api/projects/${org.defaultProjectId}/activity_log/?scope=AccessControl`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const entries = res.body.results as Array<{ detail: any }>;
    expect(entries).toHaveLength(2);
    // The rule on the flag the member may view keeps its detail; the one on the hidden flag loses it.
    expect(entries.filter((e) => e.detail !== null).map((e) => String(e.detail.context.resource_id))).toEqual([String(open)]);
    expect(entries.filter((e) => e.detail === null)).toHaveLength(1);
    expect(JSON.stringify(entries)).not.toMatch(new RegExp(`"resource_id":"?${hidden}"?[,}]`));
    expect(JSON.stringify(entries)).toMatch(new RegExp(`"resource_id":"?${open}"?[,}]`));
    const owner = await org.owner.client.get(`/api/projects/${org.defaultProjectId}/activity_log/?scope=AccessControl`);
    expect(owner.body.results.every((e: { detail: unknown }) => e.detail !== null)).toBe(true);
  });

  it('gives a member without activity_log access no entries of that project on the organization route', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    await made(org, 'feature_flags', { key: 'visible-elsewhere' });
    const orgUrl = `/api/organizations/${org.id}/activity_log/?project=${org.defaultProjectId}&scope=FeatureFlag`;
    expect((await member.client.get(orgUrl)).body.results.length).toBe(1);
    await rule(org, 'resource_access_controls/', { resource: 'activity_log', access_level: 'none' });
    expectError(await member.client.get(`/api/projects/${org.defaultProjectId}/activity_log/`), 403, 'You do not have viewer access to this resource.', null);
    const res = await member.client.get(orgUrl);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([]);
    expect((await member.client.get(`/api/organizations/${org.id}/activity_log/?scope=FeatureFlag`)).body.results).toEqual([]);
    expect((await org.owner.client.get(orgUrl)).body.results.length).toBe(1);
  });
});
