import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type Response as ApiResponse } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, type Org, type Person } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const at = (minute: number) => new Date(Date.UTC(2024, 2, 1, 12, minute)).toISOString();

async function tokenOf(org: Org, projectId = org.defaultProjectId): Promise<string> {
  const res = await org.owner.client.get(`/api/projects/${projectId}/`);
  return res.body.api_token;
}

async function capture(token: string, batch: Array<Record<string, unknown>>) {
  const res = await new Client(server.url).post('/batch/', { api_key: token, batch });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

/** An organization whose default project holds six events: three pageviews, two sign-ups, one with a shared timestamp. */
async function seeded() {
  const org = await newOrganization(server.url);
  const token = await tokenOf(org);
  const uuids = Array.from({ length: 6 }, () => randomUUID());
  await capture(token, [
    { event: '$pageview', distinct_id: 'alice', timestamp: at(1), uuid: uuids[0], properties: { $browser: 'Firefox', n: 1 } },
    { event: '$pageview', distinct_id: 'bob', timestamp: at(2), uuid: uuids[1], properties: { $browser: 'Chrome', n: 2 } },
    { event: 'signed up', distinct_id: 'alice', timestamp: at(3), uuid: uuids[2], properties: { plan: 'pro', n: 3 } },
    { event: '$pageview', distinct_id: 'alice', timestamp: at(4), uuid: uuids[3], properties: { n: 4 } },
    { event: 'signed up', distinct_id: 'bob', timestamp: at(4), uuid: uuids[4], properties: { plan: 'free', n: 5 } },
    { event: 'purchase', distinct_id: 'carol', timestamp: at(5), uuid: uuids[5], properties: { n: 6 } },
  ]);
  return { org, token, uuids, url: `/api/projects/${org.defaultProjectId}/events/` };
}

const ns = (results: Array<{ properties: { n: number } }>) => results.map((r) => r.properties.n);

async function denyResource(projectId: number, resource: string) {
  await server.db.query(`INSERT INTO access_controls (team_id, access_level, resource) VALUES ($1, 'none', $2)`, [projectId, resource]);
}

describe('events list', () => {
  it("answers PostHog's {next, results}, newest first, with each event in PostHog's shape", async () => {
    const { org, url, uuids } = await seeded();
    const res = await org.owner.client.get(url);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['next', 'results']);
    expect(res.body.next).toBeNull();
    // 4 and 5 share a timestamp; their order is fixed (by uuid) but not meaningful.
    const order = ns(res.body.results);
    expect(order[0]).toBe(6);
    expect(order.slice(1, 3).sort()).toEqual([4, 5]);
    expect(order.slice(3)).toEqual([3, 2, 1]);
    const first = res.body.results.find((e: any) => e.properties.n === 1);
    expect(first).toEqual({
      id: uuids[0],
      uuid: uuids[0],
      distinct_id: 'alice',
      properties: { $browser: 'Firefox', n: 1 },
      event: '$pageview',
      timestamp: at(1),
      person: null,
      elements: [],
      elements_chain: '',
    });
  });

  it('filters by event, distinct_id, after and before (exclusive), and orders oldest first on request', async () => {
    const { org, url } = await seeded();
    const get = async (query: string) => {
      const res = await org.owner.client.get(`${url}?${query}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return ns(res.body.results).sort();
    };
    expect(await get('event=%24pageview')).toEqual([1, 2, 4]);
    expect(await get('distinct_id=alice')).toEqual([1, 3, 4]);
    expect(await get('event=signed%20up&distinct_id=bob')).toEqual([5]);
    expect(await get(`after=${encodeURIComponent(at(2))}`)).toEqual([3, 4, 5, 6]);
    expect(await get(`before=${encodeURIComponent(at(2))}`)).toEqual([1]);
    expect(await get(`after=${encodeURIComponent(at(1))}&before=${encodeURIComponent(at(4))}`)).toEqual([2, 3]);
    expect(await get('event=nothing')).toEqual([]);
    const asc = await org.owner.client.get(`${url}?orderBy=${encodeURIComponent('["timestamp"]')}`);
    expect(ns(asc.body.results).slice(0, 3)).toEqual([1, 2, 3]);
  });

  it('pages with next links that never skip or repeat events sharing a timestamp', async () => {
    const { org, url } = await seeded();
    const seen: number[] = [];
    let next: string | null = `${url}?limit=1`;
    let pages = 0;
    while (next) {
      const res: ApiResponse = await org.owner.client.get(next);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.results.length).toBeLessThanOrEqual(1);
      seen.push(...ns(res.body.results));
      next = res.body.next;
      if (++pages > 10) throw new Error('too many pages');
    }
    expect(seen.slice().sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen[0]).toBe(6);
    expect(pages).toBe(6);
  });

  it('refuses bad parameters in PostHog shape', async () => {
    const { org, url } = await seeded();
    const c = org.owner.client;
    expectError(await c.get(`${url}?limit=-1`), 400, 'A valid integer is required.', 'limit');
    expectError(await c.get(`${url}?limit=abc`), 400, undefined, 'limit');
    expectError(await c.get(`${url}?after=not-a-date`), 400, undefined, 'after');
    expectError(await c.get(`${url}?before=2024-13-45`), 400, undefined, 'before');
    expectError(await c.get(`${url}?orderBy=%5B%22event%22%5D`), 400, undefined, 'orderBy');
    expectError(await c.get(`${url}?properties=${encodeURIComponent('[{"key":"plan","value":"pro"}]')}`), 400, undefined, 'properties');
    expectError(await c.get(`${url}?event=${'x'.repeat(401)}`), 400, undefined, 'event');
    expectError(await c.get(`${url}?event=a&event=b`), 400, undefined, 'event');
    expectError(await c.get(`${url}?before=${encodeURIComponent(at(3))}&cursor_uuid=${'-'.repeat(36)}`), 400, 'Invalid cursor.', 'cursor_uuid');
    expectError(await c.get(`${url}?cursor_uuid=${randomUUID()}`), 400, 'Invalid cursor.', 'cursor_uuid');
  });
});

describe('one event', () => {
  it('retrieves by uuid within the project only', async () => {
    const { org, url, uuids } = await seeded();
    const other = await seeded();
    const res = await org.owner.client.get(`${url}${uuids[2]}/`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: uuids[2], event: 'signed up', distinct_id: 'alice', properties: { plan: 'pro', n: 3 } });
    expectError(await org.owner.client.get(`${url}not-a-uuid/`), 400, 'Invalid UUID');
    const unknown = randomUUID();
    expectError(await org.owner.client.get(`${url}${unknown}/`), 404, `No events exist for event UUID ${unknown}`);
    // Another project's event is not found here, and the other project is not reachable at all.
    expectError(await org.owner.client.get(`${url}${other.uuids[0]}/`), 404, `No events exist for event UUID ${other.uuids[0]}`);
    expectError(await org.owner.client.get(`${other.url}${other.uuids[0]}/`), 404, 'Project not found.');
  });
});

describe('NDJSON export', () => {
  it('streams the filtered events one JSON document per line, bounded by limit', async () => {
    const { org, url } = await seeded();
    const res = await fetch(new URL(`${url}export/?format=ndjson&distinct_id=alice`, server.url), {
      headers: { authorization: `Bearer ${(await org.owner.client.post('/api/personal_api_keys/', { label: 'x', scopes: ['event:read'] })).body.value}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await res.text();
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((e) => e.properties.n)).toEqual([4, 3, 1]);
    expect(Object.keys(lines[0]).sort()).toEqual(['distinct_id', 'elements', 'elements_chain', 'event', 'id', 'person', 'properties', 'timestamp', 'uuid']);
    const limited = await org.owner.client.get(`${url}export/?limit=2`);
    expect(limited.status).toBe(200);
    expect(String(limited.body).trimEnd().split('\n')).toHaveLength(2);
    const empty = await org.owner.client.get(`${url}export/?event=none`);
    expect(empty.status).toBe(200);
    expect(empty.body).toBeNull();
    expectError(await org.owner.client.get(`${url}export/?format=xml`), 400, undefined, 'format');
    expectError(await org.owner.client.get(`${url}export/?after=nope`), 400, undefined, 'after');
  });
});

describe('who may read events', () => {
  it('takes a key with event:read or query:read, and refuses other keys with PostHog scope message', async () => {
    const { org, url } = await seeded();
    for (const scopes of [['event:read'], ['query:read'], ['event:write'], ['*']]) {
      const key = await keyClient(org.owner, scopes);
      expect((await key.get(url)).status, scopes.join()).toBe(200);
      expect((await key.get(`${url}export/`)).status, scopes.join()).toBe(200);
    }
    const wrong = await keyClient(org.owner, ['insight:read', 'dashboard:read']);
    expectError(await wrong.get(url), 403, "API key missing required scope 'event:read'");
    expectError(await wrong.get(`${url}export/`), 403, "API key missing required scope 'event:read'");
  });

  it("refuses members with none on events, and hides a private project's events from outsiders", async () => {
    const { org, url } = await seeded();
    const member = await addMember(org, 1);
    expect((await member.client.get(url)).status).toBe(200);
    await denyResource(org.defaultProjectId, 'event');
    expectError(await member.client.get(url), 403, 'You do not have viewer access to this resource.');
    expectError(await member.client.get(`${url}export/`), 403, 'You do not have viewer access to this resource.');
    expectError(
      await member.client.post(`/api/projects/${org.defaultProjectId}/query/`, { query: { kind: 'EventsQuery' } }),
      403,
      'You do not have viewer access to this resource.',
    );
    // Admins keep access (PostHog: organization admins get the highest level).
    expect((await org.owner.client.get(url)).status).toBe(200);

    const priv = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Private', access_control: true });
    await capture(priv.body.api_token, [{ event: 'secret', distinct_id: 'x' }]);
    const privUrl = `/api/projects/${priv.body.id}/events/`;
    expectError(await member.client.get(privUrl), 403, "You don't have access to the project.");
    const stranger: Person = (await newOrganization(server.url)).owner;
    expectError(await stranger.client.get(privUrl), 404, 'Project not found.');
    expectError(await stranger.client.post(`/api/projects/${priv.body.id}/query/`, { query: { kind: 'EventsQuery' } }), 404, 'Project not found.');
    const owner = await org.owner.client.get(privUrl);
    expect(owner.body.results.map((e: any) => e.event)).toEqual(['secret']);
  });
});

describe('query', () => {
  const query = (org: Org, body: unknown, client = org.owner.client) => client.post(`/api/projects/${org.defaultProjectId}/query/`, body);

  it("answers an EventsQuery in PostHog's shape", async () => {
    const { org, uuids } = await seeded();
    const res = await query(org, { query: { kind: 'EventsQuery', select: ['event', 'distinct_id', 'properties.n', 'timestamp'], limit: 2 } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.columns).toEqual(['event', 'distinct_id', 'properties.n', 'timestamp']);
    expect(res.body.results).toEqual([['purchase', 'carol', 6, at(5)], expect.arrayContaining([at(4)])]);
    expect(res.body.hasMore).toBe(true);
    expect(res.body).toMatchObject({ limit: 2, offset: 0 });
    expect(res.body.types).toHaveLength(4);

    const all = await query(org, { query: { kind: 'EventsQuery', select: ['*'], event: 'signed up', orderBy: ['timestamp ASC'] } });
    expect(all.status).toBe(200);
    expect(all.body.hasMore).toBe(false);
    expect(all.body.results.map((r: any[]) => r[0].properties.n)).toEqual([3, 5]);
    expect(all.body.results[0][0]).toMatchObject({ uuid: uuids[2], event: 'signed up', distinct_id: 'alice' });

    const window = await query(org, { query: { kind: 'EventsQuery', select: ['uuid'], after: at(1), before: at(4) } });
    expect(window.body.results).toEqual([[uuids[2]], [uuids[1]]]);
    const defaulted = await query(org, { query: { kind: 'EventsQuery' } });
    expect(defaulted.body.columns).toEqual(['*']);
    expect(defaulted.body.results).toHaveLength(6);
  });

  it('needs query:read and refuses what it cannot answer faithfully', async () => {
    const { org } = await seeded();
    const reader = await keyClient(org.owner, ['query:read']);
    expect((await query(org, { query: { kind: 'EventsQuery' } }, reader)).status).toBe(200);
    const eventsOnly = await keyClient(org.owner, ['event:read', 'insight:read']);
    expectError(await query(org, { query: { kind: 'EventsQuery' } }, eventsOnly), 403, "API key missing required scope 'query:read'");
    expectError(await query(org, {}), 400, 'This field is required.', 'query');
    expectError(await query(org, { query: 'SELECT 1' }), 400, undefined, 'query');
    expectError(await query(org, { query: { kind: 'HogQLQuery', query: 'select 1' } }), 400, /Unsupported query kind "HogQLQuery"/, 'query__kind');
    expectError(await query(org, { query: { kind: 'TrendsQuery', series: [] } }), 400, undefined, 'query__kind');
    expectError(
      await query(org, { query: { kind: 'EventsQuery', select: ['count()'] } }),
      400,
      /Unsupported select expression "count\(\)"/,
      'query__select__0',
    );
    expectError(await query(org, { query: { kind: 'EventsQuery', where: ['1 = 1'] } }), 400, undefined, 'query__where');
    expectError(await query(org, { query: { kind: 'EventsQuery', limit: -5 } }), 400, undefined, 'query__limit');
    expectError(await query(org, { query: { kind: 'EventsQuery', limit: 10_001 } }), 400, undefined, 'query__limit');
    expectError(await query(org, { query: { kind: 'EventsQuery', after: 'soon' } }), 400, undefined, 'query__after');
    expectError(await query(org, { query: { kind: 'EventsQuery', orderBy: ['event'] } }), 400, undefined, 'query__orderBy');
  });
});
