import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { keyClient, newOrganization, type Org } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

/** An organization with one recorded session (captured through ingestion). */
async function withRecording(): Promise<Org> {
  const org = await newOrganization(server.url);
  const token = (await org.owner.client.get(`/api/projects/${org.defaultProjectId}/`)).body.api_token;
  const res = await new Client(server.url).post('/batch/', {
    api_key: token,
    batch: [{ event: '$pageview', distinct_id: 'ann', timestamp: '2024-06-01T09:00:00Z', properties: { $session_id: 'sess-ann' } }],
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return org;
}

async function readEntries(org: Org) {
  return server.db.query<{ scope: string; activity: string; item_id: string | null; user_id: number | null; team_id: number; detail: any }>(
    `SELECT scope, activity, item_id, user_id, team_id, detail FROM activity_log
     WHERE organization_id = $1 AND activity IN ('viewed', 'listed', 'queried', 'exported') ORDER BY seq`,
    [org.id],
  );
}

async function readsOf(org: Org, client: Client) {
  const p = `/api/projects/${org.defaultProjectId}`;
  expect((await client.get(`${p}/session_recordings/sess-ann/`)).status).toBe(200);
  expect((await client.get(`${p}/session_recordings/`)).status).toBe(200);
  const exported = await client.get(`${p}/events/export/?format=ndjson&event=$pageview`);
  expect(exported.status).toBe(200);
  expect(JSON.stringify(exported.body)).toContain('$pageview');
  expect((await client.get(`${p}/events/?event=$pageview`)).status).toBe(200);
  expect((await client.post(`${p}/query/`, { query: { kind: 'EventsQuery', select: ['event'], limit: 5 } })).status).toBe(200);
}

describe('read-access events for sensitive data', () => {
  it('writes nothing for reads while log_sensitive_reads is off (the default)', async () => {
    const org = await withRecording();
    expect((await org.owner.client.get(`/api/organizations/${org.id}/`)).body.log_sensitive_reads).toBe(false);
    await readsOf(org, org.owner.client);
    expect(await readEntries(org)).toEqual([]);
  });

  it('records recording views and event exports with the user and key when on', async () => {
    const org = await withRecording();
    const on = await org.owner.client.patch(`/api/organizations/${org.id}/`, { log_sensitive_reads: true });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body.log_sensitive_reads).toBe(true);
    const key = await keyClient(org.owner, ['session_recording:read', 'event:read', 'query:read']);
    await readsOf(org, key);
    const entries = await readEntries(org);
    expect(entries).toEqual([
      {
        scope: 'Replay',
        activity: 'viewed',
        item_id: 'sess-ann',
        user_id: org.owner.user.id,
        team_id: org.defaultProjectId,
        detail: expect.objectContaining({ context: { distinct_id: 'ann', via_api_key_id: key.keyId, request_id: expect.any(String) } }),
      },
      {
        scope: 'Replay',
        activity: 'listed',
        item_id: null,
        user_id: org.owner.user.id,
        team_id: org.defaultProjectId,
        detail: expect.objectContaining({ context: expect.objectContaining({ recordings: ['sess-ann'], via_api_key_id: key.keyId }) }),
      },
      {
        scope: 'Event',
        activity: 'exported',
        item_id: null,
        user_id: org.owner.user.id,
        team_id: org.defaultProjectId,
        detail: expect.objectContaining({
          context: expect.objectContaining({ format: 'ndjson', via_api_key_id: key.keyId, filters: expect.objectContaining({ event: '$pageview' }) }),
        }),
      },
      {
        scope: 'Event',
        activity: 'viewed',
        item_id: null,
        user_id: org.owner.user.id,
        team_id: org.defaultProjectId,
        detail: expect.objectContaining({
          context: expect.objectContaining({ via_api_key_id: key.keyId, filters: expect.objectContaining({ event: '$pageview' }) }),
        }),
      },
      {
        scope: 'Event',
        activity: 'queried',
        item_id: null,
        user_id: org.owner.user.id,
        team_id: org.defaultProjectId,
        detail: expect.objectContaining({
          context: expect.objectContaining({ via_api_key_id: key.keyId, query: expect.objectContaining({ select: ['event'], limit: 5 }) }),
        }),
      },
    ]);
    // Readable through the API like any entry of the project.
    const log = await org.owner.client.get(`/api/projects/${org.defaultProjectId}/activity_log/?scopes=Replay,Event`);
    expect(log.body.results.map((e: any) => `${e.scope}:${e.activity}`)).toEqual([
      'Event:queried',
      'Event:viewed',
      'Event:exported',
      'Replay:listed',
      'Replay:viewed',
    ]);

    // Turning it off again stops the entries.
    await org.owner.client.patch(`/api/organizations/${org.id}/`, { log_sensitive_reads: false });
    await readsOf(org, org.owner.client);
    expect((await readEntries(org)).length).toBe(5);
  });
});
