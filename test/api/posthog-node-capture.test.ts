/**
 * The real posthog-node client against a real Warden: events captured with `client.capture(...)` and
 * flushed by `shutdown()` (gzip-compressed batches to /batch/, as the SDK sends them) are read back
 * through the events API with a key holding event:read, in their project only.
 */
import { PostHog } from 'posthog-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { expectError, keyClient, newOrganization } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

function client(token: string, options: Partial<ConstructorParameters<typeof PostHog>[1]> = {}) {
  return new PostHog(token, { host: server.url, flushAt: 2, flushInterval: 0, fetchRetryCount: 0, ...options });
}

describe('posthog-node', () => {
  it('captures events that the events API then serves, only in their project', async () => {
    const org = await newOrganization(server.url);
    const project = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Node app' });
    expect(project.status).toBe(201);
    const projectId: number = project.body.id;

    const posthog = client(project.body.api_token);
    const errors: unknown[] = [];
    posthog.on('error', (e) => errors.push(e));
    posthog.capture({ distinctId: 'user-1', event: 'order placed', properties: { total: 42.5, currency: 'EUR', items: ['a', 'b'] } });
    posthog.capture({ distinctId: 'user-2', event: 'order placed', properties: { total: 7, currency: 'USD' } });
    posthog.capture({ distinctId: 'user-1', event: 'signed in', properties: { method: 'password' } });
    posthog.capture({ distinctId: 'user-3', event: 'signed in', properties: { method: 'sso', $session_id: 'node-session' } });
    posthog.capture({ distinctId: 'user-3', event: 'page', timestamp: new Date('2024-02-02T10:00:00Z'), properties: { path: '/pricing' } });
    await posthog.shutdown();
    expect(errors).toEqual([]);

    const reader = await keyClient(org.owner, ['event:read']);
    const res = await reader.get(`/api/projects/${projectId}/events/`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const events = res.body.results as Array<{ event: string; distinct_id: string; properties: Record<string, unknown>; timestamp: string }>;
    expect(events).toHaveLength(5);
    const orders = events.filter((e) => e.event === 'order placed').sort((a, b) => a.distinct_id.localeCompare(b.distinct_id));
    expect(orders.map((e) => [e.distinct_id, e.properties.total, e.properties.currency])).toEqual([
      ['user-1', 42.5, 'EUR'],
      ['user-2', 7, 'USD'],
    ]);
    expect(orders[0]!.properties.items).toEqual(['a', 'b']);
    expect(orders[0]!.properties.$lib).toBe('posthog-node');
    expect(events.find((e) => e.event === 'page')).toMatchObject({
      distinct_id: 'user-3',
      timestamp: '2024-02-02T10:00:00.000Z',
      properties: { path: '/pricing' },
    });
    // The filters work on what the SDK sent.
    const signIns = await reader.get(`/api/projects/${projectId}/events/?event=signed%20in&distinct_id=user-3`);
    expect(signIns.body.results.map((e: any) => e.properties.method)).toEqual(['sso']);
    // The session the SDK named became a recording.
    const recordings = await org.owner.client.get(`/api/projects/${projectId}/session_recordings/`);
    expect(recordings.body.results.map((r: any) => r.id)).toEqual(['node-session']);

    // Nowhere else: not in the organization's other project, not in any other project.
    expect((await reader.get(`/api/projects/${org.defaultProjectId}/events/`)).body.results).toEqual([]);
    const [elsewhere] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE team_id <> $1', [projectId]);
    expect(elsewhere!.n).toBe(0);

    // A key with neither event:read nor query:read reads nothing.
    const other = await keyClient(org.owner, ['insight:read', 'feature_flag:read']);
    expectError(await other.get(`/api/projects/${projectId}/events/`), 403, "API key missing required scope 'event:read'");
    const query = await keyClient(org.owner, ['query:read']);
    expect((await query.get(`/api/projects/${projectId}/events/`)).body.results).toHaveLength(5);
  });

  it('stores nothing for a token that names no project (the SDK sees the 401)', async () => {
    const [before] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    const posthog = client('phc_this_token_names_no_project_at_all_000000');
    const errors: Array<{ status?: number }> = [];
    posthog.on('error', (e) => errors.push(e as { status?: number }));
    // The SDK also prints the failed flush; keep the test output clean.
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      posthog.capture({ distinctId: 'x', event: 'lost' });
      await posthog.shutdown();
    } finally {
      quiet.mockRestore();
    }
    expect(errors.some((e) => e.status === 401)).toBe(true);
    const [after] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    expect(after!.n).toBe(before!.n);
  });
});
