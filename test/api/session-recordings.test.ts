import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const at = (second: number) => new Date(Date.UTC(2024, 5, 1, 9, 0, second)).toISOString();
const recordings = (projectId: number) => `/api/projects/${projectId}/session_recordings/`;

/** Two sessions in the project, captured through the ingestion endpoint. */
async function seeded(projectId?: number) {
  const org = await newOrganization(server.url);
  const id = projectId ?? org.defaultProjectId;
  const token = (await org.owner.client.get(`/api/projects/${id}/`)).body.api_token;
  const res = await new Client(server.url).post('/batch/', {
    api_key: token,
    batch: [
      { event: '$pageview', distinct_id: 'ann', timestamp: at(0), properties: { $session_id: 'sess-ann', $current_url: 'https://shop.example/' } },
      { event: '$autocapture', distinct_id: 'ann', timestamp: at(30), properties: { $session_id: 'sess-ann', $event_type: 'click' } },
      { event: '$pageview', distinct_id: 'ben', timestamp: at(40), properties: { $session_id: 'sess-ben' } },
      { event: 'no session', distinct_id: 'ben', timestamp: at(50) },
    ],
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { org, url: recordings(id) };
}

async function replayActivity(projectId: number) {
  return server.db.query<{ activity: string; item_id: string; detail: any }>(
    `SELECT activity, item_id, detail FROM activity_log WHERE team_id = $1 AND scope = 'Replay' ORDER BY created_at, id`,
    [projectId],
  );
}

async function recordingRows(projectId: number) {
  return server.db.query('SELECT id, deleted, start_time, end_time FROM session_recordings WHERE team_id = $1 ORDER BY id', [projectId]);
}

describe('session recordings', () => {
  it("lists recording metadata in PostHog's shape, newest first, with filters", async () => {
    const { org, url } = await seeded();
    const res = await org.owner.client.get(url);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ has_next: false });
    expect(res.body.results.map((r: any) => r.id)).toEqual(['sess-ben', 'sess-ann']);
    expect(res.body.results[1]).toMatchObject({
      id: 'sess-ann',
      distinct_id: 'ann',
      start_time: at(0),
      end_time: at(30),
      recording_duration: 30,
      click_count: 1,
      start_url: 'https://shop.example/',
      viewed: false,
    });
    expect((await org.owner.client.get(`${url}?distinct_id=ann`)).body.results.map((r: any) => r.id)).toEqual(['sess-ann']);
    expect((await org.owner.client.get(`${url}?date_from=${encodeURIComponent(at(35))}`)).body.results.map((r: any) => r.id)).toEqual(['sess-ben']);
    const paged = await org.owner.client.get(`${url}?limit=1`);
    expect(paged.body.results).toHaveLength(1);
    expect(paged.body.has_next).toBe(true);
    expectError(await org.owner.client.get(`${url}?date_from=whenever`), 400, undefined, 'date_from');
    expectError(await org.owner.client.get(`${url}?limit=-3`), 400, undefined, 'limit');
  });

  it('retrieves one and deletes it (softly) with a Replay activity entry', async () => {
    const { org, url } = await seeded();
    const got = await org.owner.client.get(`${url}sess-ann/`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: 'sess-ann', distinct_id: 'ann' });
    expectError(await org.owner.client.get(`${url}nope/`), 404);
    expect((await org.owner.client.delete(`${url}sess-ann/`)).status).toBe(204);
    expectError(await org.owner.client.get(`${url}sess-ann/`), 404);
    expectError(await org.owner.client.delete(`${url}sess-ann/`), 404);
    expect((await org.owner.client.get(url)).body.results.map((r: any) => r.id)).toEqual(['sess-ben']);
    const log = await replayActivity(org.defaultProjectId);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ activity: 'deleted', item_id: 'sess-ann', detail: { name: 'sess-ann' } });
    // Events arriving later for a deleted recording do not bring it back.
    const token = (await org.owner.client.get(`/api/projects/${org.defaultProjectId}/`)).body.api_token;
    await new Client(server.url).post('/batch/', { api_key: token, batch: [{ event: 'late', distinct_id: 'ann', properties: { $session_id: 'sess-ann' } }] });
    expectError(await org.owner.client.get(`${url}sess-ann/`), 404);
  });

  it('refuses members with none on recordings, keys without the scope, and outsiders, changing nothing', async () => {
    const { org, url } = await seeded();
    const member = await addMember(org, 1);
    expect((await member.client.get(url)).body.results).toHaveLength(2);
    const reader = await keyClient(org.owner, ['session_recording:read']);
    expect((await reader.get(url)).status).toBe(200);
    expectError(await reader.delete(`${url}sess-ann/`), 403, "API key missing required scope 'session_recording:write'");
    expectError(await (await keyClient(org.owner, ['event:read'])).get(url), 403, "API key missing required scope 'session_recording:read'");

    await server.db.query(`INSERT INTO access_controls (team_id, access_level, resource) VALUES ($1, 'none', 'session_recording')`, [org.defaultProjectId]);
    const before = { rows: await recordingRows(org.defaultProjectId), log: await replayActivity(org.defaultProjectId) };
    expectError(await member.client.get(`${url}sess-ann/`), 403, 'You do not have viewer access to this resource.');
    expectError(await member.client.delete(`${url}sess-ann/`), 403, 'You do not have editor access to this resource.');
    // A list they may not read at all is refused (PostHog), not answered empty.
    expectError(await member.client.get(url), 403, 'You do not have viewer access to this resource.');
    expect({ rows: await recordingRows(org.defaultProjectId), log: await replayActivity(org.defaultProjectId) }).toEqual(before);

    const priv = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Private', access_control: true });
    expectError(await member.client.get(recordings(priv.body.id)), 403, "You don't have access to the project.");
    expectError(await (await newOrganization(server.url)).owner.client.get(`${url}sess-ann/`), 404, 'Project not found.');
  });
});
