import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastSeq as lastSeqOf, rowsSince as rowsSinceOf } from '../helpers/activity.js';
import { Client } from '../helpers/client.js';
import { startServer, storeKind, startNode, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, type Org, type Person } from '../helpers/world.js';

/**
 * Keys bound to networks and rates (issue 25, part 4; docs/key-networks.md). The server trusts the
 * proxy (trustProxy), so a request's X-Forwarded-For is its client address: the tests speak from
 * other networks that way. Without the header, the client is 127.0.0.1.
 */

let server: TestServer;
let org: Org;
let admin: Person;
beforeAll(async () => {
  server = await startServer({ trustProxy: true });
  org = await newOrganization(server.url, 'Networks');
  admin = await addMember(org, 8);
});
afterAll(() => server?.close());

const from = (client: Client, address: string | null, path = '/api/organizations/@current/') =>
  client.request('GET', path, undefined, address === null ? {} : { headers: { 'x-forwarded-for': address } });
const lastSeq = () => lastSeqOf(server.db);
const securityRows = async (since: number, activity: string) =>
  (await rowsSinceOf(server.db, since)).filter((r) => r.scope === 'Security' && r.activity === activity);
const keyRow = async (id: string) =>
  (
    await server.db.query<{ allowed_ips: string[] | null; rate_limit_per_minute: number | null }>(
      'SELECT allowed_ips, rate_limit_per_minute FROM personal_api_keys WHERE id = $1',
      [id],
    )
  )[0];

describe('allowed address ranges', () => {
  let key: Client & { keyId: string };
  beforeAll(async () => {
    key = await keyClient(org.owner, ['organization:read', 'project:read'], {
      allowed_ips: ['203.0.113.9/24', ' 2001:DB8::/32 ', '198.51.100.7', '::ffff:192.0.2.0/120'],
    });
  });

  it('are stored and shown in canonical form (network address, bare address = one host, mapped IPv6 = its IPv4 range)', async () => {
    const res = await org.owner.client.get(`/api/personal_api_keys/${key.keyId}/`);
    expect(res.status).toBe(200);
    expect(res.body.allowed_ips).toEqual(['203.0.113.0/24', '2001:db8::/32', '198.51.100.7/32', '192.0.2.0/24']);
    expect(res.body.rate_limit_per_minute).toBeNull();
  });

  it('in range: IPv4, IPv6, an IPv4-mapped IPv6 client, a single host', async () => {
    for (const address of ['203.0.113.200', '2001:db8:1::5', '::ffff:203.0.113.4', '198.51.100.7', '192.0.2.77']) {
      const res = await from(key, address);
      expect(res.status, `${address}: ${JSON.stringify(res.body)}`).toBe(200);
    }
  });

  it("out of range: 403 in PostHog's shape, naming the address (IPv4, IPv6, mapped, loopback, garbage)", async () => {
    for (const address of ['203.0.114.1', '2001:db9::1', '::ffff:198.51.100.8', '198.51.100.6', null]) {
      const res = await from(key, address);
      expectError(res, 403, `This personal API key may not be used from your address (${address ?? '127.0.0.1'}).`);
      expect(res.body).toMatchObject({ type: 'authentication_error', code: 'permission_denied', attr: null });
    }
    expect((await from(key, 'not-an-address')).status).toBe(403);
  });

  it('a refusal is a security event, at most one a minute per key and address (the rest counted)', async () => {
    const other = await keyClient(org.owner, ['organization:read'], { allowed_ips: ['10.0.0.0/8'] });
    const before = await lastSeq();
    for (let i = 0; i < 5; i++) expect((await from(other, '172.16.0.1')).status).toBe(403);
    expect((await from(other, '172.16.0.2')).status).toBe(403);
    const rows = await securityRows(before, 'api_key_address_refused');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ organization_id: org.id, user_id: org.owner.user.id, item_id: other.keyId });
    expect(rows[0]!.detail.context).toMatchObject({
      key_id: other.keyId,
      client_address: '172.16.0.1',
      allowed_ips: ['10.0.0.0/8'],
      route: '/api/organizations/:organization_id/',
      suppressed: 0,
    });
    expect(rows[1]!.detail.context.client_address).toBe('172.16.0.2');
  });

  it('a range that does not parse: 400 naming the field, nothing made or changed', async () => {
    const count = async () => (await org.owner.client.get('/api/personal_api_keys/')).body.length;
    const n = await count();
    const before = await lastSeq();
    for (const bad of ['10.0.0.0/33', '10.1', '300.1.1.1', '2001:db8::/129', 'fe80::1%eth0', '10.0.0.0/8x', '']) {
      const res = await org.owner.client.post('/api/personal_api_keys/', { label: 'bad', scopes: ['*'], allowed_ips: ['10.0.0.0/8', bad] });
      expectError(res, 400, undefined, 'allowed_ips');
      expect(res.body.detail).toContain('is not an IP address or CIDR range');
    }
    expect(await count()).toBe(n);
    const patched = await org.owner.client.patch(`/api/personal_api_keys/${key.keyId}/`, { label: 'renamed', allowed_ips: ['1.2.3.4/40'] });
    expectError(patched, 400, /1\.2\.3\.4\/40/, 'allowed_ips');
    const after = await org.owner.client.get(`/api/personal_api_keys/${key.keyId}/`);
    expect(after.body.label).not.toBe('renamed');
    expect(after.body.allowed_ips).toHaveLength(4);
    expect((await rowsSinceOf(server.db, before)).filter((r) => r.scope !== 'Security')).toEqual([]);
  });

  it('PATCH changes the ranges (logged), takes effect at once, and null lifts them', async () => {
    const k = await keyClient(org.owner, ['organization:read'], { allowed_ips: ['10.0.0.0/8'] });
    expect((await from(k, '10.1.2.3')).status).toBe(200);
    const before = await lastSeq();
    const res = await org.owner.client.patch(`/api/personal_api_keys/${k.keyId}/`, { allowed_ips: ['2001:db8::1'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.allowed_ips).toEqual(['2001:db8::1/128']);
    const logged = (await rowsSinceOf(server.db, before)).find((r) => r.activity === 'api_key_updated');
    expect(logged?.detail.changes).toContainEqual(expect.objectContaining({ field: 'allowed_ips', before: ['10.0.0.0/8'], after: ['2001:db8::1/128'] }));
    expect((await from(k, '10.1.2.3')).status).toBe(403);
    expect((await from(k, '2001:db8::1')).status).toBe(200);
    expect((await org.owner.client.patch(`/api/personal_api_keys/${k.keyId}/`, { allowed_ips: null })).body.allowed_ips).toBeNull();
    expect((await from(k, '10.1.2.3')).status).toBe(200);
  });
});

describe('rate limit', () => {
  it('over its requests per minute: 429 throttled with Retry-After, recorded once', async () => {
    const before = await lastSeq();
    let refused: Awaited<ReturnType<typeof from>> | undefined;
    // A minute boundary in the middle of the run starts a new window: try again on a fresh key.
    for (let attempt = 0; attempt < 2 && !refused; attempt++) {
      const minute = Math.floor(Date.now() / 60_000);
      const k = await keyClient(org.owner, ['organization:read'], { rate_limit_per_minute: 3 });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await from(k, null)).status);
      if (Math.floor(Date.now() / 60_000) !== minute) continue;
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      refused = await from(k, null);
    }
    expect(refused!.status).toBe(429);
    expect(refused!.body).toEqual({
      type: 'throttled_error',
      code: 'throttled',
      detail: expect.stringMatching(/^Request was throttled\. Expected available in \d+ seconds\.$/),
      attr: null,
    });
    const retryAfter = Number(refused!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const rows = await securityRows(before, 'api_key_rate_limited');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.detail.context).toMatchObject({ rate_limit_per_minute: 3, client_address: '127.0.0.1' });
  });

  it('a rate out of bounds is refused (400), and PATCH sets and lifts it', async () => {
    const k = await keyClient(org.owner, ['organization:read']);
    for (const bad of [0, -1, 1.5, 2_000_000]) {
      const res = await org.owner.client.patch(`/api/personal_api_keys/${k.keyId}/`, { rate_limit_per_minute: bad });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
    }
    expect((await keyRow(k.keyId))!.rate_limit_per_minute).toBeNull();
    expect((await org.owner.client.patch(`/api/personal_api_keys/${k.keyId}/`, { rate_limit_per_minute: 120 })).body.rate_limit_per_minute).toBe(120);
    expect((await org.owner.client.patch(`/api/personal_api_keys/${k.keyId}/`, { rate_limit_per_minute: null })).body.rate_limit_per_minute).toBeNull();
  });
});

describe('service-account keys', () => {
  it('take ranges and a rate at creation and by PATCH; refused outside; shown in the inventory', async () => {
    const base = `/api/organizations/${org.id}/service_accounts/`;
    const account = await admin.client.post(base, { name: 'ci' });
    expect(account.status).toBe(201);
    const created = await admin.client.post(`${base}${account.body.id}/keys/`, { label: 'ci', scopes: ['organization:read'], allowed_ips: ['192.0.2.0/24'] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.allowed_ips).toEqual(['192.0.2.0/24']);
    const sa = admin.client.withKey(created.body.value);
    expect((await from(sa, '192.0.2.10', `/api/organizations/${org.id}/`)).status).toBe(200);
    expectError(await from(sa, '192.0.3.10', `/api/organizations/${org.id}/`), 403, /may not be used from your address/);

    const bad = await admin.client.patch(`${base}${account.body.id}/keys/${created.body.id}/`, { allowed_ips: ['192.0.2.0/99'] });
    expectError(bad, 400, undefined, 'allowed_ips');
    const patched = await admin.client.patch(`${base}${account.body.id}/keys/${created.body.id}/`, {
      allowed_ips: ['192.0.3.0/24'],
      rate_limit_per_minute: 600,
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ allowed_ips: ['192.0.3.0/24'], rate_limit_per_minute: 600, scoped_organizations: [org.id] });
    expect((await from(sa, '192.0.3.10', `/api/organizations/${org.id}/`)).status).toBe(200);
    expect((await from(sa, '192.0.2.10', `/api/organizations/${org.id}/`)).status).toBe(403);

    const inventory = await org.owner.client.get(`/api/organizations/${org.id}/personal_api_keys/`);
    expect(inventory.status).toBe(200);
    const listed = inventory.body.results.find((k: { id: string }) => k.id === created.body.id);
    expect(listed).toMatchObject({ allowed_ips: ['192.0.3.0/24'], rate_limit_per_minute: 600 });
    // A member cannot change a service account's key.
    const member = await addMember(org, 1);
    expect((await member.client.patch(`${base}${account.body.id}/keys/${created.body.id}/`, { allowed_ips: null })).status).toBe(403);
  });
});

describe('an organization that requires ranges', () => {
  it('refuses new keys reaching it without ranges (400), refuses existing ones at use (403), accepts keys with ranges', async () => {
    const strict = await newOrganization(server.url, 'Strict');
    const old = await keyClient(strict.owner, ['organization:read']);
    const confined = await keyClient(strict.owner, ['organization:read'], { allowed_ips: ['198.51.100.0/24'] });
    const on = await strict.owner.client.patch(`/api/organizations/${strict.id}/`, { require_key_ip_ranges: true });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body.require_key_ip_ranges).toBe(true);

    const message = "Organization 'Strict' requires personal API keys to be restricted to IP address ranges (allowed_ips).";
    expectError(await strict.owner.client.post('/api/personal_api_keys/', { label: 'x', scopes: ['*'] }), 400, message, 'allowed_ips');
    expectError(await strict.owner.client.patch(`/api/personal_api_keys/${confined.keyId}/`, { allowed_ips: [] }), 400, message, 'allowed_ips');
    expect((await keyRow(confined.keyId))!.allowed_ips).toEqual(['198.51.100.0/24']);

    const before = await lastSeq();
    expectError(await from(old, null, `/api/organizations/${strict.id}/`), 403, message);
    expect(await securityRows(before, 'api_key_address_refused')).toHaveLength(1);
    expect((await from(confined, '198.51.100.1', `/api/organizations/${strict.id}/`)).status).toBe(200);
    const made = await strict.owner.client.post('/api/personal_api_keys/', { label: 'ok', scopes: ['*'], allowed_ips: ['198.51.100.0/24'] });
    expect(made.status, JSON.stringify(made.body)).toBe(201);

    // A key that cannot reach the organization is not its business.
    const elsewhere = await strict.owner.client.post('/api/organizations/', { name: 'Lenient' });
    const other = await strict.owner.client.post('/api/personal_api_keys/', { label: 'y', scopes: ['*'], scoped_organizations: [elsewhere.body.id] });
    expect(other.status, JSON.stringify(other.body)).toBe(201);

    // Switching it off lets the old key in again.
    expect((await strict.owner.client.patch(`/api/organizations/${strict.id}/`, { require_key_ip_ranges: false })).status).toBe(200);
    expect((await from(old, null, `/api/organizations/${strict.id}/`)).status).toBe(200);
  });
});

describe.runIf(storeKind === 'postgres')('two nodes', () => {
  it("a change of a key's ranges on one node is enforced by the other at once", async () => {
    const other = await startNode(server, { trustProxy: true });
    try {
      const made = await org.owner.client.post('/api/personal_api_keys/', { label: 'two', scopes: ['organization:read'], allowed_ips: ['10.0.0.0/8'] });
      const k = { keyId: made.body.id as string };
      const onOther = new Client(other.url).withKey(made.body.value);
      expect((await from(onOther, '10.0.0.1')).status).toBe(200);
      expect((await org.owner.client.patch(`/api/personal_api_keys/${k.keyId}/`, { allowed_ips: ['192.0.2.0/24'] })).status).toBe(200);
      await expect.poll(async () => (await from(onOther, '10.0.0.1')).status, { timeout: 5000 }).toBe(403);
    } finally {
      await other.close();
    }
  });
});
