/**
 * SCIM Users over real HTTP, driven the way Okta and Entra ID drive them: provisioning, profile
 * updates, deactivation (membership, sessions and keys gone at once), reactivation and deletion,
 * with the activity entries each change writes.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastSeq, rowsSince } from '../helpers/activity.js';
import { Client, type Response } from '../helpers/client.js';
import { domainMember, expectScimError, LIST_SCHEMA, PATCH_SCHEMA, scimRequest, scimSetup, USER_SCHEMA, type ScimSetup } from '../helpers/scim.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { createSession } from '../../src/domain/identity/sessions.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

async function membership(s: ScimSetup, uuid: string): Promise<number | null> {
  const [row] = await server.db.query<{ level: number }>(
    'SELECT m.level FROM organization_memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 AND u.uuid = $2',
    [s.org.id, uuid],
  );
  return row?.level ?? null;
}

/** A session as an SSO login opens it (SCIM users have no password), checked to work. */
async function ssoSession(uuid: string): Promise<{ get: (path: string) => Promise<Response> }> {
  const [user] = await server.db.query<{ id: number }>('SELECT id FROM users WHERE uuid = $1', [uuid]);
  const session = await server.db.transaction((tx) => createSession(tx, user!.id, 'saml'));
  const client = new Client(server.url);
  const get = (path: string) => client.request('GET', path, undefined, { headers: { cookie: `sessionid=${session.token}` } });
  const res = await get('/api/users/@me/');
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { get };
}

describe('Okta', () => {
  it('provisions, reads, updates, deactivates and reactivates a user as Okta does', async () => {
    const s = await scimSetup(server, 'Okta Co');
    const email = `ada.lovelace@${s.domain}`;

    // Okta looks the user up first.
    const lookup = await scimRequest(s.scim, 'GET', `${s.base}/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}&startIndex=1&count=100`);
    expect(lookup.status, JSON.stringify(lookup.body)).toBe(200);
    expect(lookup.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(lookup.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });

    const seq = await lastSeq(server.db);
    const created = await scimRequest(s.scim, 'POST', `${s.base}/Users`, {
      schemas: [USER_SCHEMA],
      userName: email,
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ primary: true, value: email, type: 'work' }],
      displayName: 'Ada Lovelace',
      locale: 'en-US',
      externalId: '00u1abcdOKTA',
      groups: [],
      password: 'ignored-by-warden',
      active: true,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    expect(created.headers.get('location')).toBe(`${server.url}${s.base}/Users/${id}`);
    expect(created.body).toMatchObject({
      schemas: [USER_SCHEMA],
      userName: email,
      externalId: '00u1abcdOKTA',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: email, primary: true, type: 'work' }],
      active: true,
      meta: { resourceType: 'User', location: `${server.url}${s.base}/Users/${id}` },
    });
    // The SCIM id is the Warden user's uuid; no password was set; the user is a Member.
    const [user] = await server.db.query<{ uuid: string; password_hash: string | null; first_name: string; current_organization_id: string }>(
      'SELECT uuid::text AS uuid, password_hash, first_name, current_organization_id FROM users WHERE lower(email) = lower($1)',
      [email],
    );
    expect(user).toEqual({ uuid: id, password_hash: null, first_name: 'Ada', current_organization_id: s.org.id });
    expect(await membership(s, id)).toBe(1);
    const members = await s.org.owner.client.get(`/api/organizations/${s.org.id}/members/?email=${encodeURIComponent(email)}`);
    expect(members.body.results).toHaveLength(1);

    const entries = await rowsSince(server.db, seq);
    expect(entries.map((e) => e.activity)).toEqual(['user_provisioned', 'member_joined']);
    for (const e of entries) expect(e).toMatchObject({ scope: 'Organization', organization_id: s.org.id, user_id: null });
    const [systemRows] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log WHERE seq > $1 AND is_system', [seq]);
    expect(systemRows!.n).toBe(2);
    expect(entries[0]!.detail.context).toMatchObject({ via: 'scim', domain_id: s.domainId, user_uuid: id, external_id: '00u1abcdOKTA' });
    expect(entries[1]!.detail.context).toMatchObject({ how: 'scim', user_uuid: id, level: 'member' });

    // The same userName again is a conflict, in SCIM's shape.
    const again = await scimRequest(s.scim, 'POST', `${s.base}/Users`, { schemas: [USER_SCHEMA], userName: email.toUpperCase() });
    expectScimError(again, 409, 'uniqueness');

    const read = await scimRequest(s.scim, 'GET', `${s.base}/Users/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    const found = await scimRequest(s.scim, 'GET', `${s.base}/Users?filter=${encodeURIComponent(`userName eq "${email.toUpperCase()}"`)}`);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].id).toBe(id);

    // Profile update: Okta sends the whole user with PUT.
    const seq2 = await lastSeq(server.db);
    const put = await scimRequest(s.scim, 'PUT', `${s.base}/Users/${id}`, {
      schemas: [USER_SCHEMA],
      id,
      userName: email,
      name: { givenName: 'Augusta Ada', familyName: 'King' },
      emails: [{ primary: true, value: email, type: 'work' }],
      externalId: '00u1abcdOKTA',
      active: true,
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.name).toMatchObject({ givenName: 'Augusta Ada', familyName: 'King', formatted: 'Augusta Ada King' });
    const updates = await rowsSince(server.db, seq2);
    expect(updates.map((e) => e.activity)).toEqual(['user_updated']);
    expect(updates[0]!.detail.changes).toEqual([
      { type: 'User', action: 'changed', field: 'first_name', before: 'Ada', after: 'Augusta Ada' },
      { type: 'User', action: 'changed', field: 'last_name', before: 'Lovelace', after: 'King' },
    ]);

    // Deactivation: Okta's path-less replace.
    const session = await ssoSession(id);
    const seq3 = await lastSeq(server.db);
    const off = await scimRequest(s.scim, 'PATCH', `${s.base}/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body.active).toBe(false);
    expect(await membership(s, id)).toBeNull();
    expect((await session.get('/api/users/@me/')).status).toBe(401);
    const offEntries = await rowsSince(server.db, seq3);
    expect(offEntries.map((e) => e.activity)).toEqual(['member_removed', 'user_deactivated']);
    expect(offEntries[1]!.detail.context).toMatchObject({ via: 'scim', sessions_ended: 1, membership_removed: true, api_keys_deleted: [] });
    // Still listed, as inactive; filterable by it.
    const inactive = await scimRequest(s.scim, 'GET', `${s.base}/Users?filter=${encodeURIComponent('active eq false')}`);
    expect(inactive.body.Resources.map((u: any) => u.id)).toEqual([id]);

    // Reactivation brings the membership back at Member.
    const seq4 = await lastSeq(server.db);
    const on = await scimRequest(s.scim, 'PATCH', `${s.base}/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body.active).toBe(true);
    expect(await membership(s, id)).toBe(1);
    expect((await rowsSince(server.db, seq4)).map((e) => e.activity)).toEqual(['member_joined']);

    // A PATCH that changes nothing writes nothing.
    const seq5 = await lastSeq(server.db);
    const same = await scimRequest(s.scim, 'PATCH', `${s.base}/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(same.status).toBe(200);
    expect(await rowsSince(server.db, seq5)).toEqual([]);
  });
});

describe('Entra ID', () => {
  it('provisions, patches with capitalised ops and string booleans, disables and deletes a user as Entra ID does', async () => {
    const s = await scimSetup(server, 'Entra Co');
    // Entra's connection test: a filter on a random userName answers an empty list.
    const probe = await scimRequest(s.scim, 'GET', `${s.base}/Users?filter=${encodeURIComponent(`userName eq "${randomUUID()}"`)}`);
    expect(probe.status).toBe(200);
    expect(probe.body.totalResults).toBe(0);

    const email = `grace.hopper@${s.domain}`;
    const created = await scimRequest(s.scim, 'POST', `${s.base}/Users`, {
      schemas: [USER_SCHEMA, ENTERPRISE],
      externalId: 'f3a9c2d1-entra',
      userName: email,
      active: true,
      displayName: 'Grace Hopper',
      emails: [{ primary: true, type: 'work', value: email }],
      meta: { resourceType: 'User' },
      name: { formatted: 'Grace Hopper', familyName: 'Hopper', givenName: 'Grace' },
      roles: [],
      [ENTERPRISE]: { department: 'Navy' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    const byExternal = await scimRequest(s.scim, 'GET', `${s.base}/Users?filter=${encodeURIComponent('externalId eq "f3a9c2d1-entra"')}`);
    expect(byExternal.body.Resources.map((u: any) => u.id)).toEqual([id]);
    // externalId is case-exact.
    const wrongCase = await scimRequest(s.scim, 'GET', `${s.base}/Users?filter=${encodeURIComponent('externalId eq "F3A9C2D1-ENTRA"')}`);
    expect(wrongCase.body.totalResults).toBe(0);

    // Entra's attribute updates: capitalised ops, dotted paths, filtered paths, extension attributes.
    const patched = await scimRequest(s.scim, 'PATCH', `${s.base}/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [
        { op: 'Replace', path: 'name.givenName', value: 'Amazing Grace' },
        { op: 'Replace', path: 'name.familyName', value: 'Hopper' },
        { op: 'Add', path: 'emails[type eq "work"].value', value: email },
        { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Computing' },
        { op: 'Add', value: { 'name.familyName': 'Murray Hopper', displayName: 'Grace M. Hopper' } },
        { op: 'Replace', path: 'externalId', value: 'f3a9c2d1-entra-2' },
      ],
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ name: { givenName: 'Amazing Grace', familyName: 'Murray Hopper' }, externalId: 'f3a9c2d1-entra-2', active: true });

    // Disabling ends the session the user signed in with.
    const session = await ssoSession(id);

    const disabled = await scimRequest(s.scim, 'PATCH', `${s.base}/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    expect(disabled.body.active).toBe(false);
    expect(await membership(s, id)).toBeNull();
    expect((await session.get('/api/users/@me/')).status).toBe(401);

    // Entra's delete, after disabling.
    const seq = await lastSeq(server.db);
    const deleted = await scimRequest(s.scim, 'DELETE', `${s.base}/Users/${id}`);
    expect(deleted.status).toBe(204);
    expect((await rowsSince(server.db, seq)).map((e) => e.activity)).toEqual(['user_deprovisioned']);
    expectScimError(await scimRequest(s.scim, 'GET', `${s.base}/Users/${id}`), 404);
    expectScimError(await scimRequest(s.scim, 'DELETE', `${s.base}/Users/${id}`), 404);
    // The account stays (it may belong to other organizations); only its link to the domain is gone.
    const [still] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE uuid = $1', [id]);
    expect(still!.n).toBe(1);
  });
});

describe('deprovisioning', () => {
  it('ends an existing member’s sessions and personal API keys at once, and logs each with is_system', async () => {
    const s = await scimSetup(server, 'Existing Co');
    const person = await domainMember(server, s, 'linus');
    expect((await person.session.get('/api/users/@me/')).status).toBe(200);
    expect((await person.key.get(`/api/organizations/${s.org.id}/`)).status).toBe(200);

    // The IdP takes over the existing account: linked, not duplicated, membership kept.
    const seq = await lastSeq(server.db);
    const linked = await scimRequest(s.scim, 'POST', `${s.base}/Users`, {
      schemas: [USER_SCHEMA],
      userName: person.email,
      name: { givenName: 'Linus', familyName: 'T' },
      active: true,
    });
    expect(linked.status, JSON.stringify(linked.body)).toBe(201);
    expect(linked.body.id).toBe(person.uuid);
    expect((await rowsSince(server.db, seq)).map((e) => e.activity)).toEqual(['user_provisioned', 'user_updated']);
    expect(await membership(s, person.uuid)).toBe(1);

    const seq2 = await lastSeq(server.db);
    const res = await scimRequest(s.scim, 'DELETE', `${s.base}/Users/${person.uuid}`);
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    // The very next request with either is refused.
    expect((await person.session.get('/api/users/@me/')).status).toBe(401);
    const viaKey = await person.key.get(`/api/organizations/${s.org.id}/`);
    expect(viaKey.status).toBe(401);
    expect(viaKey.body.code).toBe('authentication_failed');
    const keys = await server.db.query('SELECT 1 FROM personal_api_keys WHERE user_id = $1', [person.id]);
    expect(keys).toEqual([]);

    // (The refused key is a Security event of its own, after them.)
    const entries = (await rowsSince(server.db, seq2)).filter((e) => e.scope === 'Organization');
    expect(entries.map((e) => e.activity)).toEqual(['api_key_deleted', 'member_removed', 'user_deprovisioned']);
    const flags = await server.db.query<{ is_system: boolean; user_id: number | null }>(
      "SELECT is_system, user_id FROM activity_log WHERE seq > $1 AND scope = 'Organization' ORDER BY seq",
      [seq2],
    );
    expect(flags.every((f) => f.is_system && f.user_id === null)).toBe(true);
    expect(entries[2]!.detail.context).toMatchObject({ via: 'scim', sessions_ended: 1, api_keys_deleted: [{ id: person.keyId }] });
    expect(JSON.stringify(entries)).not.toMatch(/phx_[0-9A-Za-z]{20}/);
  });

  it("never removes an organization's last owner", async () => {
    const s = await scimSetup(server, 'Owner Co');
    // The owner's email is moved into the domain, then the IdP provisions and tries to deactivate them.
    const ownerEmail = `boss@${s.domain}`;
    await server.db.query('UPDATE users SET email = $2 WHERE uuid = $1', [s.org.owner.user.uuid, ownerEmail]);
    const linked = await scimRequest(s.scim, 'POST', `${s.base}/Users`, { schemas: [USER_SCHEMA], userName: ownerEmail, name: { givenName: 'Olive' } });
    expect(linked.status, JSON.stringify(linked.body)).toBe(201);
    const seq = await lastSeq(server.db);
    const res = await scimRequest(s.scim, 'PATCH', `${s.base}/Users/${s.org.owner.user.uuid}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expectScimError(res, 400, 'mutability');
    expect(res.body.detail).toBe('An organization must always have at least one owner.');
    expectScimError(await scimRequest(s.scim, 'DELETE', `${s.base}/Users/${s.org.owner.user.uuid}`), 400, 'mutability');
    expect(await membership(s, s.org.owner.user.uuid)).toBe(15);
    expect((await s.org.owner.client.get('/api/users/@me/')).status).toBe(200);
    expect(await rowsSince(server.db, seq)).toEqual([]);
    const read = await scimRequest(s.scim, 'GET', `${s.base}/Users/${s.org.owner.user.uuid}`);
    expect(read.body.active).toBe(true);
  });
});

describe('filters and pagination', () => {
  it('filters on userName, externalId, emails and names, and pages with startIndex and count', async () => {
    const s = await scimSetup(server, 'Filter Co');
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const email = `user${i}@${s.domain}`;
      const res = await scimRequest(s.scim, 'POST', `${s.base}/Users`, {
        schemas: [USER_SCHEMA],
        userName: email,
        externalId: `ext-${i}`,
        name: { givenName: i % 2 ? 'Odd' : 'Even', familyName: `Number${i}` },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      ids.push(res.body.id);
    }
    const list = (query: string) => scimRequest(s.scim, 'GET', `${s.base}/Users?${query}`);
    const f = (filter: string) => `filter=${encodeURIComponent(filter)}`;
    const idsOf = (res: any) => {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.Resources.map((u: any) => u.id);
    };

    expect(idsOf(await list(f(`userName eq "USER3@${s.domain.toUpperCase()}"`)))).toEqual([ids[2]]);
    expect(idsOf(await list(f(`emails.value eq "user4@${s.domain}"`)))).toEqual([ids[3]]);
    expect(idsOf(await list(f(`emails[type eq "work" and value eq "user5@${s.domain}"]`)))).toEqual([ids[4]]);
    expect(idsOf(await list(f('externalId eq "ext-2"')))).toEqual([ids[1]]);
    expect(idsOf(await list(f('name.givenName eq "Odd" and name.familyName ne "Number3"')))).toEqual([ids[0], ids[4]]);
    expect(idsOf(await list(f('externalId eq "ext-1" or externalId eq "ext-5"')))).toEqual([ids[0], ids[4]]);
    expect(idsOf(await list(f(`userName sw "user1@"`)))).toEqual([ids[0]]);
    expect(idsOf(await list(f(`not (name.givenName eq "Odd")`)))).toEqual([ids[1], ids[3]]);
    expect(idsOf(await list(f(`id eq "${ids[1]}"`)))).toEqual([ids[1]]);
    // LIKE wildcards in a value are taken literally.
    expect((await list(f('userName co "%"'))).body.totalResults).toBe(0);

    const page = await list('startIndex=2&count=2');
    expect(page.body).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    expect(idsOf(page)).toEqual([ids[1], ids[2]]);
    const last = await list('startIndex=5&count=10');
    expect(idsOf(last)).toEqual([ids[4]]);
    const zero = await list('count=0');
    expect(zero.body).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    // Below the minimum means the minimum (RFC 7644 §3.4.2.4).
    expect((await list('startIndex=0&count=-3')).body).toMatchObject({ startIndex: 1, itemsPerPage: 0 });
    const filteredPage = await list(`${f('name.givenName eq "Odd"')}&startIndex=2&count=1`);
    expect(filteredPage.body).toMatchObject({ totalResults: 3, itemsPerPage: 1 });
    expect(idsOf(filteredPage)).toEqual([ids[2]]);

    for (const bad of [
      'userName',
      'userName eq',
      'userName zz "x"',
      'userName eq "x" and',
      '(userName eq "x"',
      'userName eq "x',
      'password eq "x"',
      'active eq "maybe"',
      `${'('.repeat(40)}userName eq "x"${')'.repeat(40)}`,
    ]) {
      expectScimError(await list(f(bad)), 400, 'invalidFilter');
    }
    expectScimError(await list('startIndex=abc'), 400, 'invalidValue');
    expectScimError(await list('count=1.5'), 400, 'invalidValue');
  });
});
