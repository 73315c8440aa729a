import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { expectError, keyClient, newOrganization, type Org } from '../helpers/world.js';

let server: TestServer;
let anon: Client;
beforeAll(async () => {
  server = await startServer();
  anon = new Client(server.url);
});
afterAll(() => server?.close());

async function tokenOf(org: Org, projectId = org.defaultProjectId): Promise<string> {
  const res = await org.owner.client.get(`/api/projects/${projectId}/`);
  expect(res.status).toBe(200);
  return res.body.api_token;
}

async function newProject(org: Org, name = 'Second'): Promise<{ id: number; token: string }> {
  const res = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, token: res.body.api_token };
}

/** Every event and recording row, straight from the store. */
async function rows(projectId: number) {
  return server.db.query<{ uuid: string; event: string; distinct_id: string; properties: Record<string, unknown>; timestamp: Date }>(
    'SELECT uuid::text AS uuid, event, distinct_id, properties, timestamp FROM events WHERE team_id = $1 ORDER BY timestamp, uuid',
    [projectId],
  );
}
async function totals() {
  const [row] = await server.db.query<{ events: number; recordings: number }>(
    'SELECT (SELECT count(*)::int FROM events) AS events, (SELECT count(*)::int FROM session_recordings) AS recordings',
  );
  return row!;
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  anon.request('POST', path, undefined, {
    raw: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('capture', () => {
  it('stores a single event in the token project, with its properties, uuid and timestamp', async () => {
    const org = await newOrganization(server.url);
    const token = await tokenOf(org);
    const uuid = randomUUID();
    const res = await post('/capture/', {
      api_key: token,
      event: 'signed up',
      distinct_id: 'user-1',
      properties: { plan: 'pro', nested: { a: [1, 2] } },
      timestamp: '2024-05-01T12:00:00.000Z',
      uuid,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ status: 1 });
    const stored = await rows(org.defaultProjectId);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ uuid, event: 'signed up', distinct_id: 'user-1', properties: { plan: 'pro', nested: { a: [1, 2] } } });
    expect(stored[0]!.timestamp.toISOString()).toBe('2024-05-01T12:00:00.000Z');
  });

  it("takes distinct_id from properties (posthog-js) and the token from ?token= or the event's properties", async () => {
    const org = await newOrganization(server.url);
    const token = await tokenOf(org);
    expect((await post(`/i/v0/e/?token=${token}`, { event: 'a', properties: { distinct_id: 'from-props' } })).status).toBe(200);
    const list = await anon.request('POST', '/e/', undefined, {
      raw: JSON.stringify([
        { event: 'b', properties: { distinct_id: 'js', token } },
        { event: 'c', properties: { distinct_id: 'js', token } },
      ]),
      headers: { 'content-type': 'text/plain' },
    });
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    const stored = await rows(org.defaultProjectId);
    expect(stored.map((r) => [r.event, r.distinct_id]).sort()).toEqual([
      ['a', 'from-props'],
      ['b', 'js'],
      ['c', 'js'],
    ]);
  });

  it('accepts a posthog-node batch, gzip-compressed, and form-encoded base64 data', async () => {
    const org = await newOrganization(server.url);
    const token = await tokenOf(org);
    const batch = { api_key: token, sent_at: new Date().toISOString(), batch: [1, 2, 3].map((n) => ({ event: `e${n}`, distinct_id: 'd', properties: { n } })) };
    const gz = await post('/batch/', gzipSync(JSON.stringify(batch)), { 'content-encoding': 'gzip' });
    expect(gz.status, JSON.stringify(gz.body)).toBe(200);
    const gzJs = await post(`/e/?compression=gzip-js`, gzipSync(JSON.stringify({ ...batch, batch: [{ event: 'e4', distinct_id: 'd' }] })), {
      'content-type': 'text/plain',
    });
    expect(gzJs.status, JSON.stringify(gzJs.body)).toBe(200);
    const data = Buffer.from(JSON.stringify({ event: 'e5', distinct_id: 'd', properties: { token } })).toString('base64');
    const form = await anon.request('POST', '/e/', undefined, {
      raw: `data=${encodeURIComponent(data)}&compression=base64`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status, JSON.stringify(form.body)).toBe(200);
    const stored = await rows(org.defaultProjectId);
    expect(stored.map((r) => r.event).sort()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(stored.find((r) => r.event === 'e2')!.properties).toEqual({ n: 2 });
  });

  it("lands events only in the token's project, whoever sends them", async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const second = await newProject(org);
    const otherToken = await tokenOf(other);
    // Credentials of someone else are ignored: the token alone decides.
    const key = await keyClient(other.owner, ['*']);
    const res = await key.request('POST', '/batch/', { api_key: second.token, batch: [{ event: 'x', distinct_id: 'd', properties: { token: otherToken } }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await rows(second.id)).map((r) => r.event)).toEqual(['x']);
    expect(await rows(org.defaultProjectId)).toEqual([]);
    expect(await rows(other.defaultProjectId)).toEqual([]);
  });

  it('stores a retried event (same uuid) once', async () => {
    const org = await newOrganization(server.url);
    const token = await tokenOf(org);
    const uuid = randomUUID();
    const event = { event: 'retry', distinct_id: 'd', uuid, properties: { $session_id: 's-retry', $autocapture: true } };
    for (let i = 0; i < 2; i++) expect((await post('/batch/', { api_key: token, batch: [event, event] })).status).toBe(200);
    expect((await rows(org.defaultProjectId)).map((r) => r.uuid)).toEqual([uuid]);
  });
});

describe('session recordings from events', () => {
  it('upserts a recording per $session_id with its start, end and distinct_id, and does not store $snapshot events', async () => {
    const org = await newOrganization(server.url);
    const token = await tokenOf(org);
    const at = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString();
    const send = (events: unknown[]) => post('/batch/', { api_key: token, batch: events });
    expect(
      (
        await send([
          { event: '$pageview', distinct_id: 'visitor', timestamp: at(10), properties: { $session_id: 'sess-1', $current_url: 'https://example.com/a' } },
          { event: '$autocapture', distinct_id: 'visitor', timestamp: at(20), properties: { $session_id: 'sess-1', $event_type: 'click' } },
          { event: '$snapshot', distinct_id: 'visitor', timestamp: at(25), properties: { $session_id: 'sess-1', $snapshot_data: { type: 2 } } },
        ])
      ).status,
    ).toBe(200);
    expect(
      (
        await send([
          { event: '$pageleave', distinct_id: 'visitor', timestamp: at(5), properties: { $session_id: 'sess-1', $current_url: 'https://example.com/0' } },
        ])
      ).status,
    ).toBe(200);
    const [recording] = await server.db.query<any>('SELECT * FROM session_recordings WHERE team_id = $1', [org.defaultProjectId]);
    expect(recording).toMatchObject({ id: 'sess-1', distinct_id: 'visitor', click_count: 1, start_url: 'https://example.com/0' });
    expect(recording.start_time.toISOString()).toBe(at(5));
    expect(recording.end_time.toISOString()).toBe(at(25));
    expect((await rows(org.defaultProjectId)).map((r) => r.event).sort()).toEqual(['$autocapture', '$pageleave', '$pageview']);
  });
});

describe('tokens', () => {
  it('answers one 401 for any token that names no project, and stores nothing', async () => {
    const org = await newOrganization(server.url);
    const doomed = await newProject(org, 'Doomed');
    expect((await org.owner.client.delete(`/api/projects/${doomed.id}/`)).status).toBe(204);
    const before = await totals();
    const answers = [];
    for (const token of [doomed.token, 'phc_' + 'x'.repeat(43), 'phx_not_a_project_token', 'x'.repeat(500)]) {
      const res = await post('/capture/', { api_key: token, event: 'e', distinct_id: 'd' });
      expectError(res, 401, 'Project API key invalid. You can find your project API key in PostHog project settings.', null);
      answers.push(res.body);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toEqual({
      type: 'authentication_error',
      code: 'invalid_api_key',
      detail: 'Project API key invalid. You can find your project API key in PostHog project settings.',
      attr: null,
    });
    // A personal API key is not a project token either.
    const key = await keyClient(org.owner, ['*']);
    expectError(await key.request('POST', '/capture/', { event: 'e', distinct_id: 'd' }), 401, /Project API key invalid/);
    expectError(
      await post('/capture/', { event: 'e', distinct_id: 'd' }),
      401,
      'API key not provided. You can find your project API key in PostHog project settings.',
    );
    expect(await totals()).toEqual(before);
  });
});

describe('bad input', () => {
  it('refuses malformed bodies and events in PostHog shape, storing nothing of the request', async () => {
    const org = await newOrganization(server.url);
    const token = await tokenOf(org);
    const good = { event: 'ok', distinct_id: 'd' };
    const before = await totals();
    const batch = (bad: unknown) => post('/batch/', { api_key: token, batch: [good, bad] });

    expectError(await post('/batch/', '{"api_key": "x", "batch": [', {}), 400, 'Malformed request data: Invalid JSON.', null);
    expectError(await post('/capture/', ''), 400, /No data found/);
    expectError(await post('/batch/', { api_key: token, batch: 'nope' }), 400, 'Invalid payload: "batch" must be a list of events.', 'batch');
    expectError(await post('/batch/', { api_key: token, batch: [] }), 400, /holds no events/, 'batch');
    expectError(await batch({ distinct_id: 'd' }), 400, 'Invalid payload: All events must have the event name field "event"!', 'batch__1__event');
    expectError(await batch({ event: 7, distinct_id: 'd' }), 400, undefined, 'batch__1__event');
    expectError(await batch({ event: 'e' }), 400, 'Invalid payload: All events must have the event field "distinct_id"!', 'batch__1__distinct_id');
    expectError(
      await batch({ event: 'e', distinct_id: '  ' }),
      400,
      'Invalid payload: Event field "distinct_id" should not be blank!',
      'batch__1__distinct_id',
    );
    expectError(await batch({ event: 'e', distinct_id: { id: 1 } }), 400, undefined, 'batch__1__distinct_id');
    expectError(
      await batch({ event: 'e', distinct_id: 'd', properties: [1] }),
      400,
      'Invalid payload: Properties must be a JSON object, received list!',
      'batch__1__properties',
    );
    expectError(
      await batch({ event: 'e', distinct_id: 'd', uuid: 'not-a-uuid' }),
      400,
      'Invalid payload: Event field "uuid" is not a valid UUID!',
      'batch__1__uuid',
    );
    expectError(await batch({ event: 'e', distinct_id: 'd', timestamp: 'yesterday-ish' }), 400, undefined, 'batch__1__timestamp');
    expectError(await batch({ event: 'e', distinct_id: 'd', timestamp: '+275760-09-13T00:00:00Z' }), 400, undefined, 'batch__1__timestamp');
    expectError(await batch({ event: 'e'.repeat(401), distinct_id: 'd' }), 400, undefined, 'batch__1__event');
    expectError(await batch(null), 400, undefined, 'batch__1');
    expectError(await batch({ event: 'e', distinct_id: 'd', properties: { 'bad\u0000key': 1 } }), 400, undefined, 'batch__1__properties');
    expectError(await batch({ event: 'e', distinct_id: 'd', properties: { v: 'nul\u0000' } }), 400);
    let deep: unknown = 1;
    for (let i = 0; i < 150; i++) deep = { a: deep };
    expectError(await batch({ event: 'e', distinct_id: 'd', properties: { deep } }), 400, undefined, 'batch__1__properties');
    // Events carrying different tokens (and no request-level token) are refused whole.
    const other = await newProject(org);
    expectError(
      await post('/e/', [
        { event: 'a', properties: { distinct_id: 'd', token } },
        { event: 'b', properties: { distinct_id: 'd', token: other.token } },
      ]),
      400,
      /same token/,
    );
    expect(await totals()).toEqual(before);
  });

  it('refuses an oversized batch and an oversized body, storing nothing', async () => {
    const org = await newOrganization(server.url);
    const token = await tokenOf(org);
    const before = await totals();
    const many = Array.from({ length: 1001 }, (_, i) => ({ event: 'e', distinct_id: `d${i}` }));
    expectError(
      await post('/batch/', gzipSync(JSON.stringify({ api_key: token, batch: many })), { 'content-encoding': 'gzip' }),
      400,
      /at most 1000 events; this one has 1001/,
      'batch',
    );
    const big = { api_key: token, batch: [{ event: 'e', distinct_id: 'd', properties: { blob: 'x'.repeat(server.config.bodyLimit) } }] };
    expectError(await post('/batch/', big), 413, 'Request body is too large.');
    // Decompressed, a gzip body may not grow past ten times the body limit either.
    const bomb = gzipSync(JSON.stringify({ ...big, batch: [{ ...big.batch[0], properties: { blob: 'x'.repeat(server.config.bodyLimit * 11) } }] }));
    expect(bomb.length).toBeLessThan(server.config.bodyLimit);
    expectError(await post('/batch/', bomb, { 'content-encoding': 'gzip' }), 413);
    expect(await totals()).toEqual(before);
  });

  it('refuses truncated or fake gzip and unknown encodings, storing nothing', async () => {
    const org = await newOrganization(server.url);
    const token = await tokenOf(org);
    const before = await totals();
    const zipped = gzipSync(JSON.stringify({ api_key: token, batch: [{ event: 'e', distinct_id: 'd' }] }));
    const truncated = await post('/batch/', zipped.subarray(0, zipped.length - 12), { 'content-encoding': 'gzip' });
    expectError(truncated, 400, /^Malformed request data: Failed to decompress data/, null);
    expect(truncated.body.type).toBe('validation_error');
    expectError(
      await post('/batch/', JSON.stringify({ api_key: token, event: 'e', distinct_id: 'd' }), { 'content-encoding': 'gzip' }),
      400,
      /Failed to decompress/,
    );
    expectError(await post('/batch/?compression=gzip-js', 'plain text'), 400, /Failed to decompress/);
    expectError(await post('/batch/', zipped, { 'content-encoding': 'br' }), 415);
    expect(await totals()).toEqual(before);
  });
});
