import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, HttpsReceiver, selfSignedCertificate } from '../helpers/https-receiver.js';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { openStore } from '../../src/store/open.js';
import { freshPostgresDatabase, startServer, storeKind, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, type Org } from '../helpers/world.js';

let server: TestServer;
let cert: ReturnType<typeof selfSignedCertificate>;
beforeAll(async () => {
  cert = selfSignedCertificate();
  server = await startServer({ sinkCaFile: cert.caFile, sinkPollMs: 30, sinkRetryBaseMs: 40, sinkRetryMaxMs: 200 });
});
afterAll(async () => {
  await server?.close();
  cert?.cleanup();
});

const sinks = (org: Org) => `/api/organizations/${org.id}/activity_log_sinks/`;

async function receiver(): Promise<HttpsReceiver> {
  const r = new HttpsReceiver(cert);
  await r.start();
  return r;
}

async function createFlags(org: Org, keys: string[]): Promise<void> {
  for (const key of keys) {
    const res = await org.owner.client.post(`/api/projects/${org.defaultProjectId}/feature_flags/`, { key, name: key });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
}

/** The organization's entries after a chain position, in chain order, once everything is chained. */
async function chainedAfter(org: Org, after: number) {
  await eventually('chaining', async () => {
    const [row] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log WHERE organization_id = $1 AND hash IS NULL', [org.id]);
    return row!.n === 0;
  });
  return server.db.query<{ id: string; chain_seq: number; activity: string }>(
    'SELECT id::text AS id, chain_seq::int AS chain_seq, activity FROM activity_log WHERE organization_id = $1 AND chain_seq > $2 ORDER BY chain_seq',
    [org.id, after],
  );
}

/** Every entry the receiver accepted, in the order received. */
const receivedEntries = (r: HttpsReceiver) => r.accepted.flatMap((d) => d.body.entries as any[]);

describe('activity log sinks', () => {
  it('delivers every new entry once acknowledged, in chain order, signed, with stable ids; state is visible', async () => {
    const r = await receiver();
    const org = await newOrganization(server.url, 'Sink Co');
    const created = await org.owner.client.post(sinks(org), { url: r.url, description: 'SIEM' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const sink = created.body;
    expect(sink).toMatchObject({ url: r.url, description: 'SIEM', enabled: true, consecutive_failures: 0, last_error: null });
    expect(sink.secret).toMatch(/^whsec_[A-Za-z0-9]{20,}$/);
    const startedAt = sink.last_delivered_seq as number;

    await createFlags(org, ['a1', 'a2', 'a3', 'a4', 'a5']);
    const expected = await chainedAfter(org, startedAt);
    expect(expected.map((e) => e.activity)).toContain('activity_sink_created');
    expect(expected.length).toBeGreaterThanOrEqual(6);
    await eventually('delivery of every entry', async () => receivedEntries(r).length >= expected.length);

    const got = receivedEntries(r);
    expect(got.map((e) => e.id)).toEqual(expected.map((e) => e.id));
    expect(got.map((e) => e.chain_seq)).toEqual(expected.map((e) => e.chain_seq));
    expect(got.find((e) => e.activity === 'activity_sink_created')).toMatchObject({ scope: 'Organization', organization_id: org.id, item_id: sink.id });
    expect(got[got.length - 1]).toMatchObject({ scope: 'FeatureFlag', activity: 'created', user: { uuid: org.owner.user.uuid } });
    for (const d of r.accepted) {
      const ids = (d.body.entries as any[]).map((e) => e.id);
      expect(d.body).toMatchObject({ sink_id: sink.id, organization_id: org.id });
      expect(d.headers['x-warden-entry-ids']).toBe(ids.join(','));
      expect(d.headers['idempotency-key']).toBe(createHash('sha256').update(ids.join(',')).digest('hex'));
      const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(d.headers['x-warden-signature']))!;
      expect(createHmac('sha256', sink.secret).update(`${t}.${d.raw}`).digest('hex')).toBe(v1);
    }
    // The secret is shown once and never logged.
    const again = await org.owner.client.get(`${sinks(org)}${sink.id}/`);
    expect(again.body.secret).toBeUndefined();
    const [leak] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log WHERE detail::text LIKE $1', [`%${sink.secret}%`]);
    expect(leak!.n).toBe(0);

    const state = await eventually('cursor at the head', async () => {
      const res = await org.owner.client.get(`${sinks(org)}${sink.id}/`);
      return res.body.last_delivered_seq === expected[expected.length - 1]!.chain_seq && res.body;
    });
    expect(state).toMatchObject({ pending: 0, consecutive_failures: 0, last_error: null, next_retry_at: null });
    expect(Date.parse(state.last_success_at)).toBeGreaterThan(0);
    const list = await org.owner.client.get(sinks(org));
    expect(list.body).toMatchObject({ count: 1, results: [{ id: sink.id, last_delivered_seq: state.last_delivered_seq }] });
    await r.stop();
  });

  it('retries with backoff while the receiver fails or is down, and loses nothing', async () => {
    const r = await receiver();
    const org = await newOrganization(server.url);
    const sink = (await org.owner.client.post(sinks(org), { url: r.url })).body;
    await eventually('first delivery', async () => receivedEntries(r).length > 0);

    r.status = 500;
    await createFlags(org, ['b1', 'b2']);
    const failing = await eventually('failures recorded', async () => {
      const res = await org.owner.client.get(`${sinks(org)}${sink.id}/`);
      return res.body.consecutive_failures >= 2 && res.body;
    });
    expect(failing.last_error).toMatch(/^HTTP 500/);
    expect(failing.pending).toBeGreaterThan(0);
    expect(failing.next_retry_at).not.toBeNull();
    const refused = r.requests.filter((d) => d.status === 500);
    // The cursor does not move on failure: every retry starts again at the same entry.
    expect(new Set(refused.map((d) => d.body.entries[0].id)).size).toBe(1);

    await r.stop();
    await createFlags(org, ['b3']);
    await eventually('connection failures recorded', async () => {
      const res = await org.owner.client.get(`${sinks(org)}${sink.id}/`);
      return /could not reach the sink/.test(res.body.last_error ?? '');
    });
    r.status = 200;
    await r.start();

    const expected = await chainedAfter(org, 0);
    await eventually('catch-up', async () => receivedEntries(r).at(-1)?.id === expected.at(-1)!.id);
    const got = receivedEntries(r);
    const firstDelivered = expected.findIndex((e) => e.id === got[0]!.id);
    expect(got.map((e) => e.id)).toEqual(expected.slice(firstDelivered).map((e) => e.id));
    expect(got.map((e) => e.detail?.name)).toEqual(expect.arrayContaining(['b1', 'b2', 'b3']));
    const healed = (await org.owner.client.get(`${sinks(org)}${sink.id}/`)).body;
    expect(healed).toMatchObject({ consecutive_failures: 0, last_error: null, pending: 0 });
    await r.stop();
  });

  it('sends nothing to a disabled sink, and resumes from its cursor when enabled again', async () => {
    const r = await receiver();
    const org = await newOrganization(server.url);
    const sink = (await org.owner.client.post(sinks(org), { url: r.url, enabled: false })).body;
    await createFlags(org, ['c1']);
    await chainedAfter(org, 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(r.requests).toEqual([]);
    expect((await org.owner.client.get(`${sinks(org)}${sink.id}/`)).body.pending).toBeGreaterThan(0);
    const enabled = await org.owner.client.patch(`${sinks(org)}${sink.id}/`, { enabled: true });
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
    await eventually('delivery after enabling', async () => receivedEntries(r).some((e) => e.detail?.name === 'c1'));
    await r.stop();
  });

  it('records creating, updating and deleting a sink in the same transaction, without the secret or query string', async () => {
    const org = await newOrganization(server.url);
    const c = org.owner.client;
    const sink = (await c.post(sinks(org), { url: 'https://127.0.0.1:9/in?token=abc', enabled: false })).body;
    expect((await c.patch(`${sinks(org)}${sink.id}/`, { description: 'renamed' })).status).toBe(200);
    expect((await c.delete(`${sinks(org)}${sink.id}/`)).status).toBe(204);
    expect((await c.get(`${sinks(org)}${sink.id}/`)).status).toBe(404);
    const log = await c.get(`/api/organizations/${org.id}/activity_log/?scope=Organization&item_id=${sink.id}`);
    expect(log.body.results.map((e: any) => e.activity)).toEqual(['activity_sink_deleted', 'activity_sink_updated', 'activity_sink_created']);
    expect(log.body.results[1].detail.changes).toEqual([{ type: 'ActivityLogSink', action: 'changed', field: 'description', before: '', after: 'renamed' }]);
    expect(log.body.results[2].detail.context.url).toBe('https://127.0.0.1:9/in?[redacted]');
    expect(JSON.stringify(log.body)).not.toContain(sink.secret);
    expect(JSON.stringify(log.body)).not.toContain('token=abc');
  });

  it('rejects http:// and malformed URLs in PostHog shape, and lets only admins manage sinks', async () => {
    const org = await newOrganization(server.url);
    const c = org.owner.client;
    const http = await c.post(sinks(org), { url: 'http://siem.example.com/in' });
    expectError(http, 400, 'Activity log sinks must use an https:// URL.', 'url');
    expect(http.body.type).toBe('validation_error');
    expectError(await c.post(sinks(org), { url: 'not a url' }), 400, 'Enter a valid URL.', 'url');
    expectError(await c.post(sinks(org), { url: 'https://user:pw@siem.example.com/' }), 400, /Credentials/, 'url');
    expectError(await c.post(sinks(org), {}), 400);
    expectError(await c.post(sinks(org), { url: 'https://siem.example.com/', description: 'x'.repeat(401) }), 400, undefined, 'description');
    expectError(await c.patch(`${sinks(org)}not-a-uuid/`, { enabled: true }), 404);
    const [rows] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log_sinks WHERE organization_id = $1', [org.id]);
    expect(rows!.n).toBe(0);

    const member = await addMember(org, 1);
    expectError(await member.client.get(sinks(org)), 403, 'Your organization access level is insufficient.');
    expectError(await member.client.post(sinks(org), { url: 'https://siem.example.com/' }), 403);
    const admin = await addMember(org, 8);
    const readOnly = await keyClient(admin, ['activity_log:read']);
    expect((await readOnly.get(sinks(org))).status).toBe(200);
    expectError(await readOnly.post(sinks(org), { url: 'https://siem.example.com/' }), 403);
    const writer = await keyClient(admin, ['activity_log:write']);
    const made = await writer.post(sinks(org), { url: 'https://siem.example.com/', enabled: false });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
  });

  it('a node shutting down finishes the delivery in flight: its cursor moves, nothing is sent twice', async () => {
    const r = await receiver();
    r.delayMs = 1_000;
    // A node of its own, closed while the receiver is still answering; its database stays open to look.
    const pgdb = storeKind === 'postgres' ? await freshPostgresDatabase(process.env.DATABASE_URL!) : undefined;
    const db = await openStore({ databaseUrl: pgdb?.url, dataDir: null });
    const { app } = await buildApp(db, { ...server.config, databaseUrl: pgdb?.url, publicUrl: '' });
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const org = await newOrganization(url, 'Draining Co');
      const sink = (await org.owner.client.post(`/api/organizations/${org.id}/activity_log_sinks/`, { url: r.url })).body;
      await eventually('a delivery in flight', async () => r.requests.length > 0);
      await app.close();
      expect(r.requests).toHaveLength(1);
      const sent = Math.max(...r.requests[0]!.body.entries.map((e: { chain_seq: number }) => e.chain_seq));
      const [row] = await db.query<{ seq: number; failures: number }>(
        'SELECT last_delivered_seq::int AS seq, consecutive_failures AS failures FROM activity_log_sinks WHERE id = $1',
        [sink.id],
      );
      expect(row).toEqual({ seq: sent, failures: 0 });
    } finally {
      await db.close();
      await pgdb?.drop();
      await r.stop();
    }
  });

  it.runIf(storeKind === 'postgres')('shares delivery between two nodes on one Postgres without duplicates or disorder', async () => {
    const r = await receiver();
    const org = await newOrganization(server.url);
    // A second node: its own process state, the same database.
    const db2 = await openStore({ databaseUrl: server.config.databaseUrl, dataDir: null });
    const { app: node2 } = await buildApp(db2, { ...loadConfig({}, {}), ...server.config, sinkPollMs: 30 });
    try {
      const sink = (await org.owner.client.post(sinks(org), { url: r.url })).body;
      await createFlags(
        org,
        Array.from({ length: 15 }, (_, i) => `n${i}`),
      );
      const expected = await chainedAfter(org, sink.last_delivered_seq);
      await eventually('delivery of every entry', async () => receivedEntries(r).length >= expected.length);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(receivedEntries(r).map((e) => e.id)).toEqual(expected.map((e) => e.id));
    } finally {
      await node2.close();
      await db2.close();
      await r.stop();
    }
  });
});
