import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailDomain, maskKeyValue, recordSecurityEvent } from '../../src/domain/activity/security-events.js';
import type { Database } from '../../src/store/database.js';
import { Client } from '../helpers/client.js';
import { lastSeq as lastSeqOf, rowsSince as rowsSinceOf } from '../helpers/activity.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, PASSWORD, type Org, type Person } from '../helpers/world.js';

/**
 * Security events (issue 5): failed logins, failed key authentications and guard denials are
 * activity-log entries in scope 'Security', written on their own, never with a secret in them.
 */

let server: TestServer;
let org: Org;
let member: Person;
/** Every secret the tests use: none may appear in any activity_log row. */
const secrets = new Set<string>([PASSWORD]);
beforeAll(async () => {
  server = await startServer();
  org = await newOrganization(server.url, 'Security');
  member = await addMember(org, 1);
});
afterAll(() => server?.close());

const lastSeq = () => lastSeqOf(server.db);
const rowsSince = (seq: number) => rowsSinceOf(server.db, seq);

const securityRows = async (since: number) => (await rowsSince(since)).filter((r) => r.scope === 'Security');
const sessionOf = (client: Client) => (client as unknown as { cookies: Map<string, string> }).cookies.get('sessionid');

const INVALID_CREDENTIALS = { type: 'validation_error', code: 'invalid_credentials', detail: 'Invalid email or password.', attr: null };

describe('failed password logins', () => {
  it('a wrong password for an existing account: one login_failed entry, same answer, no password', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    secrets.add(wrong);
    const before = await lastSeq();
    const res = await new Client(server.url).post('/api/login/', { email: member.user.email, password: wrong });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(INVALID_CREDENTIALS);
    expect(res.headers.getSetCookie()).toEqual([]);
    const rows = await rowsSince(before);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      scope: 'Security',
      activity: 'login_failed',
      user_id: member.user.id,
      organization_id: org.id,
      team_id: null,
    });
    expect(rows[0]!.detail.context).toEqual({ email_domain: 'example.com', reason: 'invalid_credentials', email: member.user.email });
    expect(JSON.stringify(rows[0])).not.toContain(wrong);
  });

  it('an unknown account: an instance-level entry without the address', async () => {
    const email = `nobody-${randomBytes(4).toString('hex')}@unknown.example.org`;
    const before = await lastSeq();
    const res = await new Client(server.url).post('/api/login/', { email, password: PASSWORD });
    expect(res.body).toEqual(INVALID_CREDENTIALS);
    const rows = await rowsSince(before);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ scope: 'Security', activity: 'login_failed', user_id: null, organization_id: null, team_id: null });
    expect(rows[0]!.detail.context).toEqual({ email_domain: 'unknown.example.org', reason: 'invalid_credentials' });
    expect(JSON.stringify(rows[0])).not.toContain(email);
  });

  it('a successful login records nothing', async () => {
    const before = await lastSeq();
    const client = new Client(server.url);
    expect((await client.post('/api/login/', { email: member.user.email, password: PASSWORD })).status).toBe(200);
    secrets.add(sessionOf(client)!);
    expect(await securityRows(before)).toEqual([]);
  });
});

describe('key authentication failures', () => {
  it('a bogus key in the Authorization header: api_key_auth_failed, masked, never the value', async () => {
    const bogus = `phx_${randomBytes(24).toString('hex')}`;
    secrets.add(bogus);
    const before = await lastSeq();
    const res = await new Client(server.url).withKey(bogus).get('/api/users/@me/');
    expectError(res, 401, 'Personal API key found in request Authorization header is invalid.');
    const rows = await rowsSince(before);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ scope: 'Security', activity: 'api_key_auth_failed', user_id: null, organization_id: null });
    expect(rows[0]!.detail.context).toEqual({ source: 'Authorization header', mask: `${bogus.slice(0, 4)}...${bogus.slice(-4)}` });
    expect(JSON.stringify(rows[0])).not.toContain(bogus);
    expect(JSON.stringify(rows[0])).not.toContain(bogus.slice(4, -4));
  });

  it('a short key in the query string is masked entirely', async () => {
    const before = await lastSeq();
    const res = await new Client(server.url).get('/api/users/@me/?personal_api_key=phx_short');
    expect(res.status).toBe(401);
    const [row] = await securityRows(before);
    expect(row!.detail.context).toEqual({ source: 'query string', mask: '********' });
    expect(JSON.stringify(row)).not.toContain('phx_short');
  });

  it('an expired key names its owner and key id, not its value', async () => {
    const expired = await keyClient(org.owner, ['user:read']);
    const value = (expired as unknown as { auth: { key: string } }).auth.key;
    secrets.add(value);
    await server.db.query(`UPDATE personal_api_keys SET expires_at = now() - interval '1 day' WHERE id = $1`, [expired.keyId]);
    const before = await lastSeq();
    expectError(await expired.get('/api/users/@me/'), 401, /has expired/);
    const [row] = await securityRows(before);
    expect(row).toMatchObject({ activity: 'api_key_auth_failed', user_id: org.owner.user.id, organization_id: org.id, item_id: expired.keyId });
    expect(row!.detail.context).toEqual({ source: 'Authorization header', mask: maskKeyValue(value), key_id: expired.keyId });
  });
});

describe('denials decided by the guard', () => {
  it('a key missing a scope: access_denied with the reason, route pattern and key id', async () => {
    const reader = await keyClient(member, ['feature_flag:read']);
    secrets.add((reader as unknown as { auth: { key: string } }).auth.key);
    const before = await lastSeq();
    const res = await reader.post(`/api/projects/${org.defaultProjectId}/feature_flags/`, { key: 'denied-flag' });
    expectError(res, 403, "API key missing required scope 'feature_flag:write'");
    const rows = await rowsSince(before);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      scope: 'Security',
      activity: 'access_denied',
      user_id: member.user.id,
      organization_id: org.id,
      team_id: org.defaultProjectId,
    });
    expect(rows[0]!.detail.context).toEqual({
      method: 'POST',
      route: '/api/projects/:project_id/feature_flags/',
      principal: 'personal_api_key',
      key_id: reader.keyId,
      reason: 'key lacks feature_flag:write',
      status: 403,
    });
  });

  it('a 404 or 401 from the guard is not a denial entry', async () => {
    const before = await lastSeq();
    expect((await new Client(server.url).get(`/api/organizations/${org.id}/`)).status).toBe(401);
    expect((await member.client.get('/api/organizations/00000000-0000-0000-0000-000000000000/')).status).toBe(404);
    expect(await securityRows(before)).toEqual([]);
  });

  it("organization admins read their organization's Security entries through the activity log", async () => {
    const res = await org.owner.client.get(`/api/organizations/${org.id}/activity_log/?scope=Security`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const activities = res.body.results.map((e: { scope: string; activity: string }) => `${e.scope}/${e.activity}`);
    expect(activities).toContain('Security/access_denied');
    expect(activities).toContain('Security/login_failed');
    // Instance-level events (unknown account, unknown key) belong to no organization.
    const [instance] = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM activity_log WHERE scope = 'Security' AND organization_id IS NULL`);
    expect(instance!.n).toBeGreaterThanOrEqual(3);
    expect(res.body.results.every((e: { organization_id?: string }) => e.organization_id === undefined || e.organization_id === org.id)).toBe(true);
  });
});

describe('security events never fail the request and never hold a secret', () => {
  it('a failing write is logged and swallowed', async () => {
    const warnings: unknown[] = [];
    const broken = {
      transaction: async () => {
        throw new Error('database down');
      },
    } as unknown as Database;
    await expect(
      recordSecurityEvent(broken, { activity: 'login_failed', organizationId: null, userId: null, context: {} }, { warn: (o) => warnings.push(o) }),
    ).resolves.toBeUndefined();
    expect(warnings).toHaveLength(1);
  });

  it('only Security entries may belong to no organization and no project', async () => {
    await expect(server.db.query(`INSERT INTO activity_log (activity, scope, detail) VALUES ('updated', 'Organization', '{}'::jsonb)`)).rejects.toThrow();
    // (A Security entry without either is proven above: the unknown account's login_failed.)
  });

  it('the helpers mask keys and keep only the domain of an address', () => {
    expect(maskKeyValue('phx_0123456789abcdef')).toBe('phx_...cdef');
    expect(maskKeyValue('phx_0123456789abc')).toBe('phx_...9abc');
    expect(maskKeyValue('phx_012345678')).toBe('********');
    expect(emailDomain('Someone@Example.COM')).toBe('example.com');
    expect(emailDomain('no-at-sign')).toBe('');
  });

  it('no password, key value, session id or CSRF token appears in any activity_log row', async () => {
    secrets.add(sessionOf(org.owner.client)!);
    secrets.add(org.owner.client.csrfToken!);
    secrets.add(sessionOf(member.client)!);
    secrets.add(member.client.csrfToken!);
    const rows = await server.db.query<{ row: unknown }>('SELECT row_to_json(a.*) AS row FROM activity_log a');
    expect(rows.length).toBeGreaterThan(5);
    const all = JSON.stringify(rows);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(8);
      expect(all.includes(secret), `a secret (${secret.slice(0, 4)}…) is in activity_log`).toBe(false);
    }
  });
});

describe('who reads security events', () => {
  it('organization admins see them; members see none, through either route', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const admin = await addMember(org, 8);
    // A denial in the organization: a member's key without the scope the route needs.
    const narrow = await keyClient(member, ['insight:read']);
    expect((await narrow.get(`/api/organizations/${org.id}/members/`)).status).toBe(403);
    // A failed login for an account whose current organization is this one.
    expect((await new Client(server.url).post('/api/login/', { email: member.user.email, password: 'wrong password!' })).status).toBe(400);

    const orgRoute = `/api/organizations/${org.id}/activity_log/?scope=Security`;
    const adminSees = (await admin.client.get(orgRoute)).body.results.map((e: { activity: string }) => e.activity);
    expect(adminSees).toEqual(expect.arrayContaining(['access_denied', 'login_failed']));
    expect((await member.client.get(orgRoute)).body.results).toEqual([]);
    const projectRoute = `/api/projects/${org.defaultProjectId}/activity_log/?scopes=Security,Organization`;
    expect((await member.client.get(projectRoute)).body.results.filter((e: { scope: string }) => e.scope === 'Security')).toEqual([]);
    expect((await admin.client.get(projectRoute)).body.results.some((e: { scope: string }) => e.scope === 'Security')).toBe(true);
  });
});
