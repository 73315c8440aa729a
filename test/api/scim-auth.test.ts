/**
 * SCIM tokens and the SCIM service's edges over real HTTP: who may make and revoke a token, that
 * only the current token of the domain in the path works, discovery documents, and SCIM's error
 * shape and media type for everything that goes wrong.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/domain/identity/tokens.js';
import { lastSeq, rowsSince } from '../helpers/activity.js';
import { Client } from '../helpers/client.js';
import { expectScimError, insertDomain, issueToken, PATCH_SCHEMA, scimRequest, scimSetup, USER_SCHEMA } from '../helpers/scim.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const tokenUrl = (orgId: string, domainId: string) => `/api/organizations/${orgId}/domains/${domainId}/scim/token/`;

describe('SCIM token management', () => {
  it('lets admins make a token, shown once and stored hashed, and logs it without the token', async () => {
    const org = await newOrganization(server.url, 'Tokens');
    const { id } = await insertDomain(server, org.id);
    const admin = await addMember(org, 8);
    const member = await addMember(org, 1);
    const outsider = await newOrganization(server.url, 'Elsewhere');

    expectError(await member.client.post(tokenUrl(org.id, id)), 403, 'Your organization access level is insufficient.');
    expectError(await outsider.owner.client.post(tokenUrl(org.id, id)), 404);
    expectError(await org.owner.client.post(tokenUrl(org.id, randomUUID())), 404);
    const readKey = await keyClient(org.owner, ['organization:read']);
    expectError(await readKey.post(tokenUrl(org.id, id)), 403, "API key missing required scope 'organization:write'");

    const seq = await lastSeq(server.db);
    const res = await admin.client.post(tokenUrl(org.id, id));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({ scim_enabled: true, scim_base_url: `${server.url}/scim/v2/${id}`, scim_bearer_token: expect.stringMatching(/^scim_/) });
    const [row] = await server.db.query<{ scim_enabled: boolean; scim_token_hash: string }>(
      'SELECT scim_enabled, scim_token_hash FROM organization_domains WHERE id = $1',
      [id],
    );
    expect(row).toEqual({ scim_enabled: true, scim_token_hash: sha256Hex(res.body.scim_bearer_token) });
    const entries = await rowsSince(server.db, seq);
    expect(entries.map((e) => e.activity)).toEqual(['scim_enabled']);
    expect(entries[0]).toMatchObject({ scope: 'Organization', organization_id: org.id, user_id: admin.user.id, item_id: id });
    const everything = JSON.stringify(await server.db.query('SELECT detail FROM activity_log WHERE seq > $1', [seq]));
    expect(everything).not.toContain(res.body.scim_bearer_token);
    expect(everything).not.toContain(sha256Hex(res.body.scim_bearer_token));

    const works = await scimRequest(new Client(server.url).withKey(res.body.scim_bearer_token), 'GET', `/scim/v2/${id}/Users`);
    expect(works.status).toBe(200);
  });

  it('refuses a token for an unverified domain', async () => {
    const org = await newOrganization(server.url, 'Unverified');
    const { id } = await insertDomain(server, org.id, { verified: false });
    const res = await org.owner.client.post(tokenUrl(org.id, id));
    expectError(res, 400, 'This attribute cannot be updated until the domain is verified.');
    expect(res.body.code).toBe('verification_required');
    const [row] = await server.db.query<{ scim_enabled: boolean }>('SELECT scim_enabled FROM organization_domains WHERE id = $1', [id]);
    expect(row!.scim_enabled).toBe(false);
  });

  it('rotates: the old token stops working at once; disabling stops every token', async () => {
    const s = await scimSetup(server, 'Rotation');
    expect((await scimRequest(s.scim, 'GET', `${s.base}/Users`)).status).toBe(200);
    const seq = await lastSeq(server.db);
    const fresh = await issueToken(s.org.owner, s.org.id, s.domainId);
    expect(fresh).not.toBe(s.token);
    expect((await rowsSince(server.db, seq)).map((e) => e.activity)).toEqual(['scim_token_rotated']);
    expectScimError(await scimRequest(s.scim, 'GET', `${s.base}/Users`), 401);
    const current = new Client(server.url).withKey(fresh);
    expect((await scimRequest(current, 'GET', `${s.base}/Users`)).status).toBe(200);

    const seq2 = await lastSeq(server.db);
    const off = await s.org.owner.client.delete(tokenUrl(s.org.id, s.domainId));
    expect(off.status).toBe(204);
    expect((await rowsSince(server.db, seq2)).map((e) => e.activity)).toEqual(['scim_disabled']);
    const refused = await scimRequest(current, 'GET', `${s.base}/Users`);
    expectScimError(refused, 401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // Disabling again changes and logs nothing.
    const seq3 = await lastSeq(server.db);
    expect((await s.org.owner.client.delete(tokenUrl(s.org.id, s.domainId))).status).toBe(204);
    expect((await rowsSince(server.db, seq3)).filter((e) => e.scope !== 'Security')).toEqual([]);
    const [row] = await server.db.query<{ scim_enabled: boolean; scim_token_hash: string | null }>(
      'SELECT scim_enabled, scim_token_hash FROM organization_domains WHERE id = $1',
      [s.domainId],
    );
    expect(row).toEqual({ scim_enabled: false, scim_token_hash: null });
  });
});

describe('SCIM authentication', () => {
  it("refuses another domain's token, user credentials, a domain no longer verified, and records each as a security event", async () => {
    const a = await scimSetup(server, 'A');
    const b = await scimSetup(server, 'B');
    const seq = await lastSeq(server.db);
    const personalKey = await keyClient(a.org.owner, ['*']);
    for (const [client, what] of [
      [b.scim, "another domain's token"],
      [personalKey, "the owner's personal API key"],
      [a.org.owner.client, "the owner's session"],
      [new Client(server.url), 'nobody'],
      [new Client(server.url).withKey(`${a.token}x`), 'a token with a character more'],
    ] as const) {
      for (const [method, path, body] of [
        ['GET', `${a.base}/Users`, undefined],
        ['POST', `${a.base}/Users`, { schemas: [USER_SCHEMA], userName: `eve@${a.domain}` }],
        ['GET', `${a.base}/ServiceProviderConfig`, undefined],
      ] as const) {
        const res = await scimRequest(client, method, path, body);
        expect(res.status, `${what} ${method} ${path}`).toBe(401);
        expectScimError(res, 401);
      }
    }
    const [users] = await server.db.query<{ n: number }>("SELECT count(*)::int AS n FROM users WHERE email LIKE 'eve@%'");
    expect(users!.n).toBe(0);
    const events = (await rowsSince(server.db, seq)).filter((e) => e.activity === 'scim_auth_failed');
    expect(events).toHaveLength(15);
    expect(events.every((e) => e.scope === 'Security' && e.organization_id === a.org.id)).toBe(true);
    expect(new Set(events.map((e) => e.detail.context.reason))).toEqual(new Set(['invalid_token', 'missing_token']));
    expect(JSON.stringify(events)).not.toContain(b.token);

    // A domain whose verification is withdrawn stops taking its token.
    await server.db.query('UPDATE organization_domains SET verified_at = NULL WHERE id = $1', [a.domainId]);
    const unverified = await scimRequest(a.scim, 'GET', `${a.base}/Users`);
    expectScimError(unverified, 401);
    const [last] = (await rowsSince(server.db, seq)).slice(-1);
    expect(last!.detail.context.reason).toBe('domain_not_verified');
    // A token used against an unknown domain is refused the same way.
    expectScimError(await scimRequest(b.scim, 'GET', `/scim/v2/${randomUUID()}/Users`), 401);
    expectScimError(await scimRequest(b.scim, 'GET', '/scim/v2/not-a-uuid/Users'), 401);
  });
});

describe('discovery', () => {
  it('serves ServiceProviderConfig, ResourceTypes and Schemas', async () => {
    const s = await scimSetup(server, 'Discovery');
    const spc = await scimRequest(s.scim, 'GET', `${s.base}/ServiceProviderConfig`);
    expect(spc.status).toBe(200);
    expect(spc.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(spc.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 1000 },
      authenticationSchemes: [{ type: 'oauthbearertoken' }],
    });
    const types = await scimRequest(s.scim, 'GET', `${s.base}/ResourceTypes`);
    expect(types.body.Resources.map((t: any) => [t.id, t.endpoint])).toEqual([
      ['User', '/Users'],
      ['Group', '/Groups'],
    ]);
    expect((await scimRequest(s.scim, 'GET', `${s.base}/ResourceTypes/Group`)).body.schema).toBe('urn:ietf:params:scim:schemas:core:2.0:Group');
    const schemas = await scimRequest(s.scim, 'GET', `${s.base}/Schemas`);
    expect(schemas.body.Resources.map((x: any) => x.id)).toEqual([USER_SCHEMA, 'urn:ietf:params:scim:schemas:core:2.0:Group']);
    const user = await scimRequest(s.scim, 'GET', `${s.base}/Schemas/${USER_SCHEMA}`);
    expect(user.body.attributes.map((a: any) => a.name)).toContain('userName');
    expectScimError(await scimRequest(s.scim, 'GET', `${s.base}/Schemas/urn:nope`), 404);
    expectScimError(await scimRequest(s.scim, 'GET', `${s.base}/ResourceTypes/Nope`), 404);
  });
});

describe('malformed requests', () => {
  it('answers every malformed body, path and method in SCIM’s error shape, changing nothing', async () => {
    const s = await scimSetup(server, 'Malformed');
    const create = await scimRequest(s.scim, 'POST', `${s.base}/Users`, { schemas: [USER_SCHEMA], userName: `ok@${s.domain}` });
    expect(create.status).toBe(201);
    const user = `${s.base}/Users/${create.body.id}`;
    const raw = (method: string, path: string, body: string, type = 'application/scim+json') =>
      s.scim.request(method, path, undefined, { raw: body, headers: { 'content-type': type } });
    const seq = await lastSeq(server.db);

    for (const body of ['{"userName":', '{userName: 1}', '', '{"a":1,}', '\u0000']) {
      expectScimError(await raw('POST', `${s.base}/Users`, body), 400, 'invalidSyntax');
    }
    for (const body of ['[]', '"x"', '42', 'null', 'true']) {
      expectScimError(await raw('POST', `${s.base}/Users`, body), 400, 'invalidSyntax');
      expectScimError(await raw('PATCH', user, body), 400, 'invalidSyntax');
    }
    expectScimError(await raw('POST', `${s.base}/Users`, '{"__proto__": {"x": 1}, "userName": "a@b.c"}'), 400);
    const bad: Array<[unknown, string]> = [
      [{ schemas: [USER_SCHEMA] }, 'invalidValue'],
      [{ userName: 42 }, 'invalidValue'],
      [{ userName: 'not an email' }, 'invalidValue'],
      [{ userName: 'someone@elsewhere.example' }, 'invalidValue'],
      [{ userName: `x@${s.domain}`, active: 'maybe' }, 'invalidValue'],
      [{ userName: `x@${s.domain}`, name: 'Ada' }, 'invalidValue'],
      [{ userName: `x@${s.domain}`, name: { givenName: 'x'.repeat(151) } }, 'invalidValue'],
      [{ userName: `x@${s.domain}`, schemas: 'urn' }, 'invalidSyntax'],
    ];
    for (const [body, scimType] of bad) {
      expectScimError(await scimRequest(s.scim, 'POST', `${s.base}/Users`, body), 400, scimType);
      expectScimError(await scimRequest(s.scim, 'PUT', user, body), 400, scimType);
    }
    const patches: Array<[unknown, string]> = [
      [{ schemas: [PATCH_SCHEMA] }, 'invalidSyntax'],
      [{ schemas: [PATCH_SCHEMA], Operations: [] }, 'invalidSyntax'],
      [{ schemas: ['urn:wrong'], Operations: [{ op: 'replace', value: { active: false } }] }, 'invalidSyntax'],
      [{ schemas: [PATCH_SCHEMA], Operations: [{ op: 'frobnicate', path: 'active', value: false }] }, 'invalidSyntax'],
      [{ schemas: [PATCH_SCHEMA], Operations: ['replace'] }, 'invalidSyntax'],
      [{ schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active' }] }, 'invalidValue'],
      [{ schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: 'nope' }] }, 'invalidValue'],
      [{ schemas: [PATCH_SCHEMA], Operations: [{ op: 'remove' }] }, 'noTarget'],
      [{ schemas: [PATCH_SCHEMA], Operations: [{ op: 'remove', path: 'userName' }] }, 'invalidValue'],
      [{ schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'emails[type eq', value: 'x' }] }, 'invalidPath'],
      [{ schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'emails[type eq "home"]', value: { value: 'x' } }] }, 'noTarget'],
      [{ schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: 'active' }] }, 'invalidValue'],
      [{ schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 42, value: 1 }] }, 'invalidPath'],
    ];
    for (const [body, scimType] of patches) expectScimError(await scimRequest(s.scim, 'PATCH', user, body), 400, scimType);

    // Unknown ids, routes and methods; unsupported media types; text the database cannot store.
    expectScimError(await scimRequest(s.scim, 'GET', `${s.base}/Users/${randomUUID()}`), 404);
    expectScimError(await scimRequest(s.scim, 'GET', `${s.base}/Users/not-a-uuid`), 404);
    expectScimError(await scimRequest(s.scim, 'PUT', `${s.base}/Users/${randomUUID()}`, { userName: `q@${s.domain}` }), 404);
    expectScimError(await scimRequest(s.scim, 'GET', `${s.base}/Nope`), 404);
    expectScimError(await scimRequest(s.scim, 'DELETE', `${s.base}/Users`), 405);
    expectScimError(await raw('POST', `${s.base}/Users`, 'userName=x', 'application/x-www-form-urlencoded'), 415);
    expectScimError(await raw('POST', `${s.base}/Users`, `{"userName": "a\\u0000@${s.domain}"}`), 400);
    expectScimError(await scimRequest(s.scim, 'GET', `${s.base}/Users?filter=${encodeURIComponent('userName eq "\u0000"')}`), 400);
    expectScimError(await scimRequest(s.scim, 'GET', `${s.base}/Users/%zz`), 404);
    expect(await rowsSince(server.db, seq)).toEqual([]);

    // Plain JSON is accepted too.
    const json = await s.scim.post(`${s.base}/Users`, { schemas: [USER_SCHEMA], userName: `plain@${s.domain}` });
    expect(json.status, JSON.stringify(json.body)).toBe(201);
    expect(json.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  });
});

describe('hostile input with a valid token', () => {
  it('never answers 500 on any SCIM route, always in SCIM’s shape, whatever the body, path or query', { timeout: 120_000 }, async () => {
    const s = await scimSetup(server, 'Hostile');
    const person = await scimRequest(s.scim, 'POST', `${s.base}/Users`, { schemas: [USER_SCHEMA], userName: `h@${s.domain}` });
    const group = await scimRequest(s.scim, 'POST', `${s.base}/Groups`, { displayName: 'H', members: [{ value: person.body.id }] });
    const ids: Record<string, string> = { domain_id: s.domainId, user_id: person.body.id, group_id: group.body.id, doc_id: 'User' };
    const deep = (n: number): unknown => (n === 0 ? 'x' : { value: deep(n - 1) });
    const bodies = [
      '{}',
      '{"Operations": [{"op": "add", "path": "members", "value": [{"value": 1e308}]}]}',
      JSON.stringify({ Operations: [{ op: 'replace', path: 'a[b[c eq "d"] eq "e"]', value: 1 }] }),
      JSON.stringify({ Operations: [{ op: 'remove', path: `members[${'('.repeat(200)}value eq "x"${')'.repeat(200)}]` }] }),
      JSON.stringify({ Operations: Array.from({ length: 1001 }, () => ({ op: 'add', path: 'members', value: [] })) }),
      JSON.stringify({ userName: `x@${s.domain}`, displayName: 'x', name: deep(200), members: [deep(50)], externalId: 'x'.repeat(100_000) }),
      `{"userName": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
      '{"__proto__": {"active": false}, "constructor": {"prototype": {"x": 1}}, "userName": "p@q.r"}',
      JSON.stringify({ userName: `💥'; DROP TABLE users; --@${s.domain}`, displayName: "Ω'; DROP TABLE roles; --", members: [{ value: "' OR 1=1 --" }] }),
      JSON.stringify({
        schemas: [PATCH_SCHEMA],
        Operations: [{ op: 'add', value: { 'emails[type eq "work"].value': 'x', 'a.b.c': 1, '': 2, 'urn:x:y': { z: 1 } } }],
      }),
      JSON.stringify({
        schemas: [PATCH_SCHEMA],
        Operations: [{ op: 'add', path: 'members', value: Array.from({ length: 10_001 }, () => ({ value: randomUUID() })) }],
      }),
    ];
    const queries = [
      `filter=${encodeURIComponent('userName eq "' + 'x'.repeat(3000) + '"')}`,
      `filter=${encodeURIComponent('a[b[c eq "d"]]')}`,
      'filter=%00&startIndex=%F0%9F%92%A5',
      'startIndex=99999999999999999999&count=1e308',
      'startIndex=999999999&count=1000',
      'filter=userName%20eq%20%22x%22&filter=b',
      `excludedAttributes=${'members,'.repeat(1000)}`,
    ];
    const problems: string[] = [];
    const check = (res: { status: number; body: any; headers: Headers }, what: string) => {
      if (res.status >= 500) problems.push(`${what} -> ${res.status}`);
      else if (res.status >= 400) {
        if (
          res.body?.schemas?.[0] !== 'urn:ietf:params:scim:api:messages:2.0:Error' ||
          !(res.headers.get('content-type') ?? '').startsWith('application/scim+json')
        ) {
          problems.push(`${what} -> ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        }
      }
    };
    const routes = server.routes.filter((r) => r.url.startsWith('/scim/v2/')).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
    expect(routes.length).toBeGreaterThanOrEqual(17);
    for (const route of routes) {
      const path = route.url.replace(/:(\w+)/g, (_, name: string) => ids[name] ?? randomUUID());
      if (route.method === 'GET') {
        for (const q of queries) check(await s.scim.get(`${path}?${q}`), `GET ${route.url}?${q.slice(0, 40)}`);
        for (const garbage of ['%zz', 'a'.repeat(300), '%00', encodeURIComponent("' OR 1=1 --")]) {
          check(
            await s.scim.get(route.url.replace(/:(\w+)/g, (_, name: string) => (name === 'domain_id' ? s.domainId : garbage))),
            `GET ${route.url} ${garbage.slice(0, 10)}`,
          );
        }
        continue;
      }
      for (const body of bodies) {
        for (const type of ['application/scim+json', 'application/json']) {
          check(
            await s.scim.request(route.method, path, undefined, { raw: body, headers: { 'content-type': type } }),
            `${route.method} ${route.url} ${body.slice(0, 40)}`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
