/** Prometheus /metrics: off by default, token-protected, and counting what operators watch. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.js';
import { startServer, storeKind, type TestServer } from '../helpers/server.js';
import { keyClient, newOrganization, PASSWORD } from '../helpers/world.js';

const TOKEN = 'metrics-token-for-tests-0123456789';
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ metricsToken: TOKEN });
});
afterAll(async () => {
  await server?.close();
});

const scrape = async (token = TOKEN) => fetch(new URL('/metrics', server.url), { headers: { authorization: `Bearer ${token}` } });

/** The value of one sample line, e.g. metric{a="b"} 3 (labels in any order, the service label included). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('/metrics', () => {
  it('is off without a token: 404 like any unknown path', async () => {
    const plain = await startServer();
    try {
      const res = await fetch(new URL('/metrics', plain.url));
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ type: 'invalid_request', code: 'not_found' });
    } finally {
      await plain.close();
    }
  });

  it('needs its token; a session or personal API key does not open it', async () => {
    expect((await fetch(new URL('/metrics', server.url))).status).toBe(401);
    expect((await scrape('wrong-token-wrong-token-wrong')).status).toBe(401);
    const org = await newOrganization(server.url);
    const key = await keyClient(org.owner, ['*']);
    expect((await key.get('/metrics')).status).toBe(401);
    expect((await org.owner.client.get('/metrics')).status).toBe(401);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/plain');
  });

  it('counts requests by route pattern and status, latency, decisions by reason, and security events', async () => {
    const org = await newOrganization(server.url);
    const flagsOnly = await keyClient(org.owner, ['feature_flag:read']);
    const before = await (await scrape()).text();
    const route = '/api/projects/:project_id/feature_flags/';
    expect((await flagsOnly.get(`/api/projects/${org.defaultProjectId}/feature_flags/`)).status).toBe(200);
    expect((await flagsOnly.get(`/api/projects/${org.defaultProjectId}/insights/`)).status).toBe(403);
    expect((await new Client(server.url).post('/api/login/', { email: org.owner.user.email, password: `${PASSWORD}!` })).status).toBe(400);
    expect((await new Client(server.url).withKey('phx_' + 'x'.repeat(48)).get('/api/users/@me/')).status).toBe(401);
    const after = await (await scrape()).text();

    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('warden_http_requests_total', { method: 'GET', route, status: '200' })).toBe(1);
    expect(delta('warden_http_request_duration_seconds_count', { method: 'GET', route })).toBe(1);
    expect(delta('warden_authorization_decisions_total', { outcome: 'allow', reason: 'granted' })).toBeGreaterThanOrEqual(1);
    expect(delta('warden_authorization_decisions_total', { outcome: 'deny', reason: 'key lacks insight:read' })).toBe(1);
    expect(delta('warden_security_events_total', { activity: 'access_denied' })).toBe(1);
    expect(delta('warden_security_events_total', { activity: 'login_failed' })).toBe(1);
    expect(delta('warden_security_events_total', { activity: 'api_key_auth_failed' })).toBe(1);
    // Unknown paths are one series, not one per URL.
    await fetch(new URL('/nothing/here/123', server.url));
    const last = await (await scrape()).text();
    expect(last).not.toContain('/nothing/here/123');
  });

  it("reports how far each activity-log sink lags behind its organization's chain", async () => {
    const org = await newOrganization(server.url);
    const sink = await org.owner.client.post(`/api/organizations/${org.id}/activity_log_sinks/`, { url: 'https://127.0.0.1:1/unreachable' });
    expect(sink.status, JSON.stringify(sink.body)).toBe(201);
    await org.owner.client.patch(`/api/organizations/${org.id}/`, { name: 'Renamed for the lag' });
    const deadline = Date.now() + 20_000;
    let lag = 0;
    while (Date.now() < deadline) {
      lag = sample(await (await scrape()).text(), 'warden_activity_sink_lag_entries', { sink: sink.body.id });
      if (lag >= 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // Its own creation entry and the rename, at least; none acknowledged by an unreachable receiver.
    expect(lag).toBeGreaterThanOrEqual(2);
  });

  it('reports the access cache: lookups by kind and result, hit ratio, entries, trust', async () => {
    const org = await newOrganization(server.url);
    const flagsOnly = await keyClient(org.owner, ['feature_flag:read']);
    const before = await (await scrape()).text();
    for (let i = 0; i < 10; i++) expect((await flagsOnly.get(`/api/projects/${org.defaultProjectId}/feature_flags/`)).status).toBe(200);
    const after = await (await scrape()).text();
    const delta = (labels: Record<string, string>) =>
      sample(after, 'warden_access_cache_lookups_total', labels) - sample(before, 'warden_access_cache_lookups_total', labels);
    // The key is read at its first use, and once more after that use recorded its last_used_at
    // (a change to the key); the other requests find it in memory.
    expect(delta({ space: 'key', result: 'hit' })).toBeGreaterThanOrEqual(8);
    expect(delta({ space: 'key', result: 'miss' })).toBeLessThanOrEqual(2);
    expect(delta({ space: 'project_access', result: 'hit' })).toBeGreaterThanOrEqual(9);
    const ratio = sample(after, 'warden_access_cache_hit_ratio', {});
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThanOrEqual(1);
    expect(sample(after, 'warden_access_cache_entries', {})).toBeGreaterThan(0);
    expect(sample(after, 'warden_access_cache_trusted', {})).toBe(1);
    // A change is counted as an invalidation.
    const invalidations = sample(after, 'warden_access_cache_invalidations_total', {});
    expect((await org.owner.client.patch(`/api/organizations/${org.id}/`, { name: 'Renamed for the cache' })).status).toBe(200);
    expect(sample(await (await scrape()).text(), 'warden_access_cache_invalidations_total', {})).toBeGreaterThan(invalidations);
  });

  it.runIf(storeKind === 'postgres')('reports the database pool', async () => {
    const text = await (await scrape()).text();
    expect(sample(text, 'warden_db_pool_connections', { state: 'max' })).toBe(10);
    expect(sample(text, 'warden_db_pool_connections', { state: 'total' })).toBeGreaterThan(0);
  });
});
