/**
 * Server-side requests go through the outbound policy (src/net/): with the default setting, a
 * signed-in user cannot make Warden reach its own network. A local server on 127.0.0.1 stands for
 * what is there; it must see no connection at all, and the answers must not tell what was there.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METADATA_FETCH_FAILED } from '../../src/sso/saml-metadata.js';
import { eventually } from '../helpers/https-receiver.js';
import { startServer, storeKind, type TestServer } from '../helpers/server.js';
import { expectError, newOrganization } from '../helpers/world.js';

let server: TestServer;
let target: Server;
let port = 0;
let connections = 0;

beforeAll(async () => {
  // The default policy: no operator exceptions (the test helper's loopback allowance removed).
  server = await startServer({ outboundAllow: [], sinkPollMs: 30, sinkRetryBaseMs: 40, sinkRetryMaxMs: 200 });
  target = createServer((_req, res) => res.writeHead(404).end('nothing here'));
  target.on('connection', () => connections++);
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  port = (target.address() as AddressInfo).port;
});
afterAll(async () => {
  await server?.close();
  target?.closeAllConnections();
  await new Promise((r) => target?.close(r));
});

describe(`outbound requests under the default policy (${storeKind})`, () => {
  it('a SAML metadata URL on loopback, a private or a cloud-metadata address is refused with one message, unfetched', async () => {
    const org = await newOrganization(server.url, 'Probe Co');
    const created = await org.owner.client.post(`/api/organizations/${org.id}/domains/`, { domain: 'probe.example' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const url = `/api/organizations/${org.id}/domains/${created.body.id}/`;
    for (const probe of [
      `http://127.0.0.1:${port}/`,
      `https://127.0.0.1:${port}/`,
      `http://localhost:${port}/metadata`,
      `https://[::1]:${port}/`,
      'http://169.254.169.254/latest/meta-data/',
      'https://10.255.255.1/',
      'http://127.0.0.1:1/',
    ]) {
      expectError(await org.owner.client.patch(url, { saml_metadata_url: probe }), 400, METADATA_FETCH_FAILED, 'saml_metadata_url');
    }
    const after = await org.owner.client.get(url);
    expect(after.body.saml_entity_id ?? null).toBeNull();
    expect(connections).toBe(0);
  });

  it('an OIDC issuer on loopback is never asked for its discovery document: the login fails with a generic answer', async () => {
    const org = await newOrganization(server.url, 'OIDC Probe');
    const name = `probe-${randomBytes(4).toString('hex')}.example`;
    const [row] = await server.db.query<{ id: string }>(
      `INSERT INTO organization_domains (organization_id, domain, verification_challenge, verified_at, oidc_issuer, oidc_client_id)
       VALUES ($1, $2, $3, now(), $4, 'client') RETURNING id`,
      [org.id, name, randomBytes(16).toString('hex'), `https://127.0.0.1:${port}`],
    );
    const res = await fetch(`${server.url}/login/oidc/?domain_id=${row!.id}`, { redirect: 'manual' });
    const body = await res.text();
    expect(res.status, body).toBeGreaterThanOrEqual(400);
    expect(res.status, body).toBeLessThan(600);
    expect(body).not.toMatch(/127\.0\.0\.1|ECONN|404|nothing here/);
    expect(connections).toBe(0);
  });

  it('an activity-log sink on loopback gets nothing, and its status says only that it could not be reached', async () => {
    const org = await newOrganization(server.url, 'Sink Probe');
    const created = await org.owner.client.post(`/api/organizations/${org.id}/activity_log_sinks/`, { url: `https://127.0.0.1:${port}/hook` });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await org.owner.client.post(`/api/projects/${org.defaultProjectId}/feature_flags/`, { key: 'probe', name: 'probe' });
    const failed = await eventually('a failed delivery', async () => {
      const res = await org.owner.client.get(`/api/organizations/${org.id}/activity_log_sinks/${created.body.id}/`);
      return res.body.consecutive_failures > 0 ? res.body : null;
    });
    expect(failed.last_error).toMatch(/^could not reach the sink/);
    expect(failed.last_error).not.toMatch(/127\.0\.0\.1|ECONN|refused by/i);
    expect(connections).toBe(0);
  });
});
