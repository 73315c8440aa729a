import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteEntry } from '../../src/http/route-table.js';
import { Client, type Response } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, type Org, type Person } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  // ERRORS_TEST_LOG=error shows the stack of any 500.
  server = await startServer({ logLevel: process.env.ERRORS_TEST_LOG ?? 'silent' });
});
afterAll(() => server?.close());

const ERROR_KEYS = ['attr', 'code', 'detail', 'type'];
const ERROR_TYPES = ['validation_error', 'authentication_error', 'invalid_request', 'throttled_error', 'server_error'];

/** Under /scim/v2, errors have SCIM's shape (RFC 7644 §3.12) and media type instead. */
const isScim = (what: string) => what.includes('/scim/v2/');
function scimShaped(res: Response): boolean {
  const body = res.body;
  const keys = Object.keys(body && typeof body === 'object' ? body : {});
  return (
    (res.headers.get('content-type') ?? '').startsWith('application/scim+json') &&
    body?.schemas?.length === 1 &&
    body.schemas[0] === 'urn:ietf:params:scim:api:messages:2.0:Error' &&
    body.status === String(res.status) &&
    typeof body.detail === 'string' &&
    keys.every((k) => ['schemas', 'status', 'scimType', 'detail'].includes(k))
  );
}

/**
 * No 500 from user input, and every error in PostHog's `{type, code, detail, attr}` and nothing else.
 * Problems are collected, so one run reports them all.
 */
function collector() {
  const problems: string[] = [];
  return {
    problems,
    /** `scim`: whether the path the request reached is a SCIM one (by default: the route's). */
    check(res: Response, what: string, scim = isScim(what)): Response {
      const body = JSON.stringify(res.body)?.slice(0, 200);
      if (res.status >= 500) problems.push(`${what} -> ${res.status} ${body}`);
      else if (res.status >= 400 && scim) {
        if (!scimShaped(res)) problems.push(`${what} -> ${res.status} not in SCIM's shape ${body}`);
      } else if (res.status >= 400) {
        const keys = Object.keys(res.body && typeof res.body === 'object' ? res.body : {}).sort();
        if (keys.join() !== ERROR_KEYS.join() || !ERROR_TYPES.includes(res.body.type)) {
          problems.push(`${what} -> ${res.status} wrong shape ${body}`);
        }
      }
      return res;
    },
  };
}

const TABLES = [
  'users',
  'organizations',
  'organization_memberships',
  'projects',
  'explicit_project_memberships',
  'personal_api_keys',
  'organization_invites',
  'activity_log',
  'sessions',
];

/**
 * A rejected request changes nothing, except that it may leave a Security event (its own entry in
 * the activity log, written on purpose: see src/domain/activity/security-events.ts). The hash-chain columns
 * are filled in after commit, in the background, so they are not compared.
 */
const from = (table: string) =>
  table === 'activity_log'
    ? `(SELECT id, seq, organization_id, team_id, user_id, was_impersonated, is_system, activity, scope, item_id, detail, created_at FROM activity_log WHERE scope <> 'Security')`
    : table;

/** Row count and a digest of every row of every table, plus the latest updated_at of organizations and projects. */
async function fingerprint(s: TestServer): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const table of TABLES) {
    const [row] = await s.db.query<{ n: number; digest: string }>(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest FROM ${from(table)} t`,
    );
    out[table] = row;
  }
  for (const table of ['organizations', 'projects']) {
    const [row] = await s.db.query<{ latest: unknown }>(`SELECT max(updated_at)::text AS latest FROM ${table}`);
    out[`${table}.updated_at`] = row?.latest;
  }
  return out;
}

/** Runs a batch of requests that must all be rejected, and proves the database did not change. */
async function unchanged(s: TestServer, batch: () => Promise<void>): Promise<void> {
  const before = await fingerprint(s);
  await batch();
  expect(await fingerprint(s)).toEqual(before);
}

const json = { 'content-type': 'application/json' };
const raw = (client: Client, method: string, path: string, body: string, headers: Record<string, string> = json) =>
  client.request(method, path, undefined, { raw: body, headers });

/** A route's URL with every `:param` replaced by `value(name)`. */
function fill(url: string, value: (name: string) => string): string {
  return url.replace(/:(\w+)/g, (_, name: string) => value(name));
}

describe('unknown routes and methods', () => {
  it('answers 404 for unknown routes and 405 with Allow for a wrong method, in PostHog shape', async () => {
    const org = await newOrganization(server.url);
    const anon = new Client(server.url);
    await unchanged(server, async () => {
      for (const [client, method, path] of [
        [anon, 'GET', '/api/nope/'],
        [anon, 'GET', '/nope'],
        [org.owner.client, 'GET', '/api/organizations/x/nope/'],
        [org.owner.client, 'POST', '/api/nope/'],
        [org.owner.client, 'DELETE', `/api/organizations/${org.id}/projects/${org.defaultProjectId}/nope/`],
      ] as const) {
        const res = await client.request(method, path, method === 'GET' ? undefined : {});
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null });
      }

      const cases: Array<[Client, string, string, string[]]> = [
        [org.owner.client, 'DELETE', '/api/projects/', ['GET']],
        [anon, 'PUT', '/_health', ['GET']],
        [anon, 'POST', '/_health', ['GET']],
        [anon, 'GET', '/api/login/', ['POST']],
        [org.owner.client, 'PATCH', `/api/organizations/${org.id}/projects/`, ['GET', 'POST']],
        [org.owner.client, 'POST', `/api/projects/${org.defaultProjectId}/`, ['DELETE', 'GET', 'PATCH', 'PUT']],
        [org.owner.client, 'DELETE', '/api/users/@me/', ['GET', 'PATCH']],
      ];
      for (const [client, method, path, allowed] of cases) {
        const res = await client.request(method, path, method === 'GET' ? undefined : {});
        expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(405);
        expect(res.body).toEqual({
          type: 'invalid_request',
          code: 'method_not_allowed',
          detail: `Method "${method}" not allowed.`,
          attr: null,
        });
        const allow = (res.headers.get('allow') ?? '')
          .split(',')
          .map((m) => m.trim())
          .filter(Boolean)
          .sort();
        expect(allow, `${method} ${path}`).toEqual(allowed);
      }
    });
  });
});

describe('request bodies', () => {
  it('rejects malformed, empty, non-object and non-JSON bodies in PostHog shape', async () => {
    const org = await newOrganization(server.url);
    const c = org.owner.client;
    const projects = `/api/organizations/${org.id}/projects/`;
    const orgUrl = `/api/organizations/${org.id}/`;
    await unchanged(server, async () => {
      for (const body of ['{"name":', '{name: "x"}', "{'name': 'x'}", '{"name": "x",}', 'nul', '\u0000', '{"name": "\\ud800"', '\ufeff{']) {
        const res = await raw(c, 'POST', projects, body);
        expectError(res, 400);
        expect(res.body, JSON.stringify(body)).toMatchObject({ type: 'invalid_request', code: 'parse_error', attr: null });
      }
      // Empty body that claims to be JSON.
      const empty = await raw(c, 'POST', projects, '');
      expectError(empty, 400);
      expect(empty.body).toMatchObject({ type: 'invalid_request', code: 'parse_error' });
      const emptyPatch = await raw(c, 'PATCH', orgUrl, '');
      expectError(emptyPatch, 400);

      // JSON that is not an object where an object is expected.
      for (const body of ['[]', '[{"name":"x"}]', '"a string"', '42', 'true', 'null']) {
        for (const [method, path] of [
          ['POST', projects],
          ['PATCH', orgUrl],
        ] as const) {
          const res = await raw(c, method, path, body);
          expectError(res, 400);
          expect(res.body.type, `${method} ${body}`).toMatch(/^(validation_error|invalid_request)$/);
          if (body !== 'null') expect(res.body.type, `${method} ${body}`).toBe('validation_error');
        }
      }

      // Media types the API does not take.
      const types = ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/html'];
      for (const type of types) {
        const body = type.startsWith('application/x-www') ? 'name=x' : '{"name":"x"}';
        const res = await raw(c, 'POST', projects, body, { 'content-type': type });
        expectError(res, 415);
        expect(res.body).toMatchObject({ type: 'invalid_request', code: 'unsupported_media_type', attr: null });
        const patch = await raw(c, 'PATCH', orgUrl, '{"name":"x"}', { 'content-type': type });
        expectError(patch, 415);
      }
    });
    const list = await c.get(projects);
    expect(list.body.results.map((p: any) => p.name)).toEqual(['Default project']);
  });

  it("refuses text Postgres cannot store (NUL, lone surrogates) with DRF's messages, in body, query and path", async () => {
    const org = await newOrganization(server.url);
    const c = org.owner.client;
    const projects = `/api/organizations/${org.id}/projects/`;
    const nul = (res: Response, attr: string | null) => {
      expectError(res, 400, 'Null characters are not allowed.', attr);
      expect(res.body).toMatchObject({ type: 'validation_error', code: 'null_characters_not_allowed' });
    };
    await unchanged(server, async () => {
      nul(await c.post(projects, { name: 'a\u0000b' }), 'name');
      nul(await c.patch(`/api/organizations/${org.id}/`, { name: '\u0000' }), 'name');
      nul(await c.patch(`/api/projects/${org.defaultProjectId}/`, { timezone: 'UTC\u0000' }), 'timezone');
      nul(await c.post('/api/personal_api_keys/', { label: 'k', scopes: ['project:read', '\u0000'] }), 'scopes__1');
      nul(await new Client(server.url).post('/api/login/', { email: 'a\u0000@example.com', password: 'x' }), 'email');
      nul(await c.get(`/api/organizations/${org.id}/members/?search=%00`), 'search');
      const surrogate = await raw(c, 'POST', projects, '{"name": "x\\ud83d"}');
      expectError(surrogate, 400, 'Surrogate characters are not allowed: U+D83D.', 'name');
      expect(surrogate.body.code).toBe('surrogate_characters_not_allowed');
      // A NUL in a path segment names nothing.
      for (const [method, path] of [
        ['GET', '/api/personal_api_keys/%00/'],
        ['PATCH', `/api/organizations/${org.id}/members/%00/`],
        ['DELETE', `/api/organizations/${org.id}/invites/%00/`],
      ] as const) {
        expectError(await c.request(method, path, method === 'PATCH' ? { level: 1 } : undefined), 404, 'Not found.', null);
      }
      // Malformed percent-encoding and over-long segments are a plain 404, not the router's own shape.
      for (const path of ['/api/projects/%zz/', `/api/projects/${'9'.repeat(300)}/`, `/api/organizations/${'a'.repeat(1000)}/`]) {
        const res = await c.get(path);
        expect(res.body, path).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null });
        expect(res.status).toBe(404);
      }
      // Callers without access hear about their credentials first.
      expectError(await new Client(server.url).post(projects, { name: '\u0000' }), 401);
      // Integers beyond the database's range are refused by the schema.
      const team = await c.patch('/api/users/@me/', { set_current_team: 1e308 });
      expectError(team, 400, 'Ensure this value is less than or equal to 2147483647.', 'set_current_team');
    });
  });

  it('stores unicode and quote-laden text exactly', async () => {
    const org = await newOrganization(server.url);
    const name = "💥 Ω'; DROP TABLE users; -- \\ %s $1";
    const res = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect((await org.owner.client.get(`/api/projects/${res.body.id}/`)).body.name).toBe(name);
  });

  it('rejects a body over the configured limit with 413 request_too_large', async () => {
    const small = await startServer({ bodyLimit: 2048 });
    try {
      const org = await newOrganization(small.url);
      const big = JSON.stringify({ name: 'x'.repeat(10 * 1024) });
      await unchanged(small, async () => {
        for (const [client, method, path] of [
          [org.owner.client, 'POST', `/api/organizations/${org.id}/projects/`],
          [org.owner.client, 'PATCH', `/api/organizations/${org.id}/`],
          [new Client(small.url), 'POST', '/api/login/'],
        ] as const) {
          const res = await raw(client, method, path, big);
          expectError(res, 413, 'Request body is too large.', null);
          expect(res.body).toMatchObject({ type: 'invalid_request', code: 'request_too_large' });
        }
        // Just under the limit is parsed and validated as usual.
        const fits = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 123, pad: 'x'.repeat(1500) });
        expectError(fits, 400, 'Not a valid string.', 'name');
      });
    } finally {
      await small.close();
    }
  });

  it('names the offending field in attr for wrong types and missing fields', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const c = org.owner.client;
    const projects = `/api/organizations/${org.id}/projects/`;
    const memberUrl = `/api/organizations/${org.id}/members/${member.user.uuid}/`;
    const orgUrl = `/api/organizations/${org.id}/`;
    const projectUrl = `/api/projects/${org.defaultProjectId}/`;
    const validationError = (res: Response, detail: string, attr: string, code = 'invalid_input') => {
      expectError(res, 400, detail, attr);
      expect(res.body.type).toBe('validation_error');
      expect(res.body.code).toBe(code);
    };
    await unchanged(server, async () => {
      validationError(await c.post(projects, { name: 123 }), 'Not a valid string.', 'name');
      validationError(await c.post(projects, { name: null }), 'Not a valid string.', 'name');
      validationError(await c.post(projects, { name: ['a'] }), 'Not a valid string.', 'name');
      validationError(await c.post(projects, { name: 'P', access_control: 'yes' }), 'Must be a valid boolean.', 'access_control');
      validationError(await c.post(projects, { name: 'P', access_control: 1 }), 'Must be a valid boolean.', 'access_control');
      validationError(await c.patch(projectUrl, { access_control: 'true' }), 'Must be a valid boolean.', 'access_control');
      validationError(await c.patch(projectUrl, { name: { a: 1 } }), 'Not a valid string.', 'name');
      validationError(await c.patch(memberUrl, { level: '8' }), 'A valid integer is required.', 'level');
      validationError(await c.patch(memberUrl, { level: 8.5 }), 'A valid integer is required.', 'level');
      validationError(await c.patch(memberUrl, { level: null }), 'A valid integer is required.', 'level');
      validationError(await c.patch(orgUrl, { members_can_invite: 'no' }), 'Must be a valid boolean.', 'members_can_invite');
      validationError(await c.patch(orgUrl, { name: 5 }), 'Not a valid string.', 'name');
      validationError(await c.patch('/api/users/@me/', { first_name: false }), 'Not a valid string.', 'first_name');
      validationError(await c.patch('/api/users/@me/', { set_current_team: 'abc' }), 'A valid integer is required.', 'set_current_team');
      validationError(await c.post('/api/personal_api_keys/', { label: 'k', scopes: 'read' }), 'Expected a list of items.', 'scopes');
      validationError(await c.post(`${orgUrl}invites/`, { target_email: 42 }), 'Not a valid string.', 'target_email');

      // Missing required fields.
      validationError(await c.post(projects, {}), 'This field is required.', 'name', 'required');
      validationError(await c.post(projects, { access_control: true }), 'This field is required.', 'name', 'required');
      validationError(await c.patch(memberUrl, {}), 'This field is required.', 'level', 'required');
      validationError(await c.post('/api/organizations/', {}), 'This field is required.', 'name', 'required');
      validationError(await c.post(`${orgUrl}invites/`, { level: 1 }), 'This field is required.', 'target_email', 'required');
      const login = await new Client(server.url).post('/api/login/', { email: 'a@b.co' });
      validationError(login, 'This field is required.', 'password', 'required');
    });
    // Nothing above changed the member or the organization.
    const members = await c.get(`${orgUrl}members/`);
    expect(members.body.results.find((m: any) => m.user.uuid === member.user.uuid).level).toBe(1);
    const o = await c.get(orgUrl);
    expect(o.body).toMatchObject({ name: 'Org', members_can_invite: true });
  });
});

// ---- Hostile values against every route -------------------------------------------------------

const STRING_FIELDS = [
  'name',
  'first_name',
  'last_name',
  'email',
  'password',
  'current_password',
  'organization_name',
  'timezone',
  'product_description',
  'target_email',
  'message',
  'label',
  'user_uuid',
  'user_id',
  'set_current_organization',
  'expires_at',
];
const INT_FIELDS = ['level', 'set_current_team', 'user_id', 'personal_api_keys_max_lifetime_days'];
const BOOL_FIELDS = [
  'access_control',
  'members_can_invite',
  'members_can_use_personal_api_keys',
  'enforce_2fa',
  'is_member_join_email_enabled',
  'allow_publicly_shared_resources',
];
const ARRAY_FIELDS = ['scopes', 'scoped_teams', 'scoped_organizations', 'personal_api_keys_allowed_scopes'];
const ALL_FIELDS = [...new Set([...STRING_FIELDS, ...INT_FIELDS, ...BOOL_FIELDS, ...ARRAY_FIELDS])];
const every = (fields: string[], value: unknown) => Object.fromEntries(fields.map((f) => [f, value]));
const nested = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};

/** Raw JSON bodies a hostile client might send. */
const HOSTILE_BODIES: Array<[string, string]> = [
  ['empty object', '{}'],
  ['NUL name', JSON.stringify({ name: '\u0000' })],
  ['NUL in every string', JSON.stringify(every(STRING_FIELDS, 'a\u0000b'))],
  ['200-deep object', JSON.stringify({ name: nested(200), level: nested(200), scopes: nested(200) })],
  ['200-deep array', `${'['.repeat(200)}${']'.repeat(200)}`],
  ['huge numbers', JSON.stringify({ ...every(INT_FIELDS, 1e308), scoped_teams: [1e308], name: 1e308 })],
  ['overflowing numbers', '{"level": 1e999, "set_current_team": 99999999999999999999, "user_id": -1e999, "scoped_teams": [4294967296]}'],
  ['negative ints', JSON.stringify({ ...every(INT_FIELDS, -1), scoped_teams: [-1, 0] })],
  [
    'huge ids with a valid level',
    JSON.stringify({ user_id: 1e308, set_current_team: -1e308, personal_api_keys_max_lifetime_days: 1e308, level: 1, scoped_teams: [2 ** 53] }),
  ],
  // Far deeper than any recursive walk survives.
  ['50k-deep array', `{"name":${'['.repeat(50_000)}${']'.repeat(50_000)}}`],
  ['prototype pollution', '{"__proto__": {"level": 15}, "constructor": {"prototype": {"is_staff": true}}, "name": "p"}'],
  ['null everywhere', JSON.stringify(every(ALL_FIELDS, null))],
  ['100 KB strings', JSON.stringify({ ...every(STRING_FIELDS, 'x'.repeat(100_000)), scopes: ['x'.repeat(100_000)] })],
  ['unicode and SQL', JSON.stringify({ ...every(STRING_FIELDS, "💥 Ω'; DROP TABLE users; --"), level: 1 })],
  ['lone surrogate', JSON.stringify(every(STRING_FIELDS, 'x\ud83d'))],
];

const GARBAGE_SEGMENTS = [
  'x',
  '-1',
  '99999999999999999999',
  'a'.repeat(300),
  '%00',
  encodeURIComponent('💥'),
  '../../etc',
  '..%2F..%2Fetc',
  encodeURIComponent("' OR 1=1 --"),
  '%zz',
  '0',
  '1.5',
];

const QUERIES = [
  'limit=-1&offset=-5',
  'limit=99999999999999999999&offset=1e308',
  'limit=%00&offset=%F0%9F%92%A5',
  'limit=1&limit=2&search=%00&email=%00&order=%00',
  `search=${'x'.repeat(5000)}&email=${encodeURIComponent("' OR 1=1 --")}`,
];

interface World {
  org: Org;
  projectId: number;
  member: Person;
  inviteId: string;
  keyId: string;
  serviceAccountId?: string;
}

/** An organization with a private project, a member who is also an explicit project member, an invite and a key. */
async function makeWorld(owner?: Person): Promise<World> {
  let org: Org;
  if (owner) {
    const res = await owner.client.post('/api/organizations/', { name: 'Throwaway' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    org = { id: res.body.id, owner, defaultProjectId: res.body.teams[0]?.id };
  } else {
    org = await newOrganization(server.url, 'Fuzz');
  }
  const c = org.owner.client;
  const project = await c.post(`/api/organizations/${org.id}/projects/`, { name: 'Private', access_control: true });
  expect(project.status, JSON.stringify(project.body)).toBe(201);
  const member = await addMember(org, 1);
  const explicit = await c.post(`/api/projects/${project.body.id}/explicit_members/`, { user_uuid: member.user.uuid, level: 1 });
  expect(explicit.status, JSON.stringify(explicit.body)).toBe(201);
  const invite = await c.post(`/api/organizations/${org.id}/invites/`, { target_email: `fuzz-${randomUUID()}@example.com` });
  expect(invite.status, JSON.stringify(invite.body)).toBe(201);
  const key = await c.post('/api/personal_api_keys/', { label: 'fuzz', scopes: ['*'] });
  expect(key.status, JSON.stringify(key.body)).toBe(201);
  const world: World = { org, projectId: project.body.id, member, inviteId: invite.body.id, keyId: key.body.id };
  // Routes still being built get a real entity when they can make one, a well-formed unknown id otherwise.
  if (server.routes.some((r) => r.method === 'POST' && r.url === '/api/organizations/:organization_id/service_accounts/')) {
    const account = await c.post(`/api/organizations/${org.id}/service_accounts/`, { name: 'Fuzz bot' });
    if (account.status === 201) world.serviceAccountId = account.body.id;
  }
  return world;
}

function realistic(world: World) {
  const ids: Record<string, string> = {
    organization_id: world.org.id,
    project_id: String(world.projectId),
    user_uuid: world.member.user.uuid,
    invite_id: world.inviteId,
    key_id: world.keyId,
    user_id: '@me',
    account_id: world.serviceAccountId ?? randomUUID(),
  };
  return (name: string) => ids[name] ?? randomUUID();
}

const hasBody = (method: string) => method === 'POST' || method === 'PATCH' || method === 'PUT';
const label = (r: RouteEntry) => `${r.method} ${r.url}`;
const short = (segment: string) => (segment.length > 24 ? `${segment.slice(0, 12)}…(${segment.length})` : segment);

/** DELETE routes last, the project and then the organization last of all; logout at the very end. */
function ordered(routes: readonly RouteEntry[]): RouteEntry[] {
  const rank = (r: RouteEntry) =>
    r.url === '/api/logout/'
      ? 4
      : r.method !== 'DELETE'
        ? 0
        : r.url === '/api/organizations/:organization_id/'
          ? 3
          : r.url === '/api/projects/:project_id/'
            ? 2
            : 1;
  return [...routes].sort((a, b) => rank(a) - rank(b));
}

// These walk the whole route table, which grows with every route: a wider budget than one request's.
describe('hostile input on every route', { timeout: 300_000 }, () => {
  let main: World;
  let throwaway: World;
  beforeAll(async () => {
    main = await makeWorld();
    throwaway = await makeWorld(main.org.owner);
  });

  it('walks a route table in which every route declares its access', () => {
    expect(server.routes.length).toBeGreaterThan(30);
    for (const r of server.routes) expect(typeof r.access.kind, label(r)).toBe('string');
  });

  it('rejects anonymous callers and bogus keys on every non-public route, changing nothing', async () => {
    const anon = new Client(server.url);
    const bogus = anon.withKey('phx_' + 'A'.repeat(48));
    const value = realistic(main);
    const { problems, check } = collector();
    await unchanged(server, async () => {
      for (const route of ordered(server.routes)) {
        const path = fill(route.url, value);
        const body = hasBody(route.method) ? {} : undefined;
        const a = check(await anon.request(route.method, path, body), `anonymous ${label(route)}`);
        const k = check(await bogus.request(route.method, path, body), `bogus key ${label(route)}`);
        if (route.access.kind === 'public') continue;
        if (route.access.kind === 'scim_token') {
          // SCIM routes take only their domain's SCIM token: no credentials and a personal key are both a 401.
          const q = check(await anon.request(route.method, `${path}?personal_api_key=phx_bogus`, body), `query key ${label(route)}`);
          for (const [who, res] of [
            ['anonymous', a],
            ['bogus key', k],
            ['query key', q],
          ] as const) {
            if (res.status !== 401) problems.push(`${who} ${label(route)} -> ${res.status} ${JSON.stringify(res.body)}`);
          }
          continue;
        }
        if (route.access.kind === 'project_token') {
          // Token routes take no user credentials: without a project token they answer as PostHog's
          // capture and flags services do, whatever else was sent.
          for (const [who, res, codes] of [
            ['anonymous', a, ['missing_api_key']],
            ['bogus key', k, ['missing_api_key', 'invalid_api_key']],
          ] as const) {
            if (res.status !== 401 || !(codes as readonly string[]).includes(res.body?.code) || res.body?.type !== 'authentication_error') {
              problems.push(`${who} ${label(route)} -> ${res.status} ${JSON.stringify(res.body)}`);
            }
          }
          continue;
        }
        if (a.status !== 401 || a.body?.code !== 'not_authenticated' || a.body?.type !== 'authentication_error') {
          problems.push(`anonymous ${label(route)} -> ${a.status} ${JSON.stringify(a.body)}`);
        }
        if (k.status !== 401 || k.body?.code !== 'authentication_failed' || k.body?.type !== 'authentication_error') {
          problems.push(`bogus key ${label(route)} -> ${k.status} ${JSON.stringify(k.body)}`);
        }
        // A key in the query string is checked just the same.
        const q = check(await anon.request(route.method, `${path}?personal_api_key=phx_bogus`, body), `query key ${label(route)}`);
        if (q.status !== 401 || q.body?.code !== 'authentication_failed') {
          problems.push(`query key ${label(route)} -> ${q.status} ${JSON.stringify(q.body)}`);
        }
      }
    });
    expect(problems).toEqual([]);
  });

  it('never answers 500 to garbage path parameters, changing nothing', async () => {
    const c = main.org.owner.client;
    const value = realistic(main);
    const withParams = server.routes.filter((r) => r.url.includes(':'));
    const { problems, check } = collector();
    await unchanged(server, async () => {
      for (const route of ordered(withParams)) {
        const params = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1]!);
        const leaf = params[params.length - 1]!;
        for (const [i, segment] of GARBAGE_SEGMENTS.entries()) {
          // Every parameter garbage; and, past the guard, real parents with a garbage last parameter.
          const paths = [fill(route.url, () => segment)];
          if (params.length > 1) paths.push(fill(route.url, (name) => (name === leaf ? segment : value(name))));
          for (const [j, path] of paths.entries()) {
            const what = `${label(route)} with ${j === 0 ? 'all' : leaf}=${short(segment)}`;
            // `..` segments can take the request out of /scim/v2 (URLs are normalised before sending).
            const scim = isScim(new URL(path, server.url).pathname);
            if (!hasBody(route.method)) {
              check(await c.request(route.method, path), what, scim);
              continue;
            }
            // One ordinary body and one hostile body per garbage value keeps the request count bounded.
            const [name, hostile] = HOSTILE_BODIES[(i + j) % HOSTILE_BODIES.length]!;
            check(await raw(c, route.method, path, '{}'), what, scim);
            check(await raw(c, route.method, path, hostile), `${what} and ${name}`, scim);
          }
        }
      }
    });
    expect(problems).toEqual([]);
  });

  it('never answers 500 to hostile bodies and query strings with real ids', async () => {
    const c = main.org.owner.client;
    const { problems, check } = collector();
    for (const route of ordered(server.routes)) {
      const world = route.method === 'DELETE' ? throwaway : main;
      const path = fill(route.url, realistic(world));
      if (route.method === 'GET') {
        check(await c.get(path), label(route));
        for (const query of QUERIES) check(await c.get(`${path}?${query}`), `${label(route)}?${query}`);
        continue;
      }
      if (route.method === 'DELETE') {
        // Delete requests take no body, but a hostile one must not hurt either.
        check(await raw(c, 'DELETE', path, HOSTILE_BODIES[3]![1]), `${label(route)} with a deep body`);
        check(await c.request('DELETE', path), label(route));
        check(await c.request('DELETE', path), `${label(route)} again`);
        continue;
      }
      for (const [name, body] of HOSTILE_BODIES) check(await raw(c, route.method, path, body), `${label(route)} with ${name}`);
    }
    expect(problems).toEqual([]);
  });
});

// ---- Server-owned fields ----------------------------------------------------------------------

describe('server-owned fields', () => {
  it('ignores id, uuid, api_token, organization and created_at when creating a project', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const forgedUuid = randomUUID();
    const res = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, {
      name: 'Mine',
      id: 424242,
      uuid: forgedUuid,
      api_token: 'phc_forged',
      organization: other.id,
      organization_id: other.id,
      created_at: '2001-01-01T00:00:00Z',
      updated_at: '2001-01-01T00:00:00Z',
      is_demo: true,
      effective_membership_level: 15,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.name).toBe('Mine');
    expect(res.body.id).not.toBe(424242);
    expect(res.body.uuid).not.toBe(forgedUuid);
    expect(res.body.api_token).not.toBe('phc_forged');
    expect(res.body.organization).toBe(org.id);
    expect(res.body.is_demo).toBe(false);
    expect(new Date(res.body.created_at).getUTCFullYear()).toBeGreaterThan(2020);
    const [row] = await server.db.query<{ organization_id: string; uuid: string; api_token: string; created_at: Date }>(
      'SELECT organization_id, uuid::text AS uuid, api_token, created_at FROM projects WHERE id = $1',
      [res.body.id],
    );
    expect(row).toMatchObject({ organization_id: org.id, uuid: res.body.uuid, api_token: res.body.api_token });
    expect(new Date(row!.created_at).getUTCFullYear()).toBeGreaterThan(2020);
    const forged = await server.db.query('SELECT id FROM projects WHERE id = 424242 OR uuid::text = $1 OR api_token = $2', [forgedUuid, 'phc_forged']);
    expect(forged).toEqual([]);
    const theirs = await other.owner.client.get(`/api/organizations/${other.id}/projects/`);
    expect(theirs.body.results.map((p: any) => p.name)).toEqual(['Default project']);
  });

  it('ignores id, created_at, membership_level and member_count when updating an organization', async () => {
    const org = await newOrganization(server.url);
    const url = `/api/organizations/${org.id}/`;
    const before = await org.owner.client.get(url);
    const res = await org.owner.client.patch(url, {
      name: 'Renamed',
      id: randomUUID(),
      slug: 'forged-slug',
      created_at: '2001-01-01T00:00:00Z',
      membership_level: 1,
      member_count: 999,
      membership_count: 999,
      teams: [],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const after = await org.owner.client.get(url);
    for (const body of [res.body, after.body]) {
      expect(body).toMatchObject({
        id: org.id,
        name: 'Renamed',
        slug: before.body.slug,
        created_at: before.body.created_at,
        membership_level: 15,
        member_count: 1,
        membership_count: 1,
      });
      expect(body.teams.map((t: any) => t.id)).toEqual([org.defaultProjectId]);
    }
    // A patch of only server-owned fields changes nothing at all.
    await unchanged(server, async () => {
      const serverOwned = { id: randomUUID(), created_at: '2001-01-01T00:00:00Z', membership_level: 1, member_count: 5 };
      const res2 = await org.owner.client.patch(url, serverOwned);
      expect(res2.status, JSON.stringify(res2.body)).toBe(200);
      expect(res2.body).toMatchObject({ id: org.id, name: 'Renamed', membership_level: 15, created_at: before.body.created_at });
    });
  });

  it('changes only the level when a member is patched with user and joined_at', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const url = `/api/organizations/${org.id}/members/`;
    const before = (await org.owner.client.get(url)).body.results.find((m: any) => m.user.uuid === member.user.uuid);
    const res = await org.owner.client.patch(`${url}${member.user.uuid}/`, {
      level: 8,
      user: { uuid: randomUUID(), email: 'forged@example.com', first_name: 'Forged', id: 1 },
      joined_at: '2001-01-01T00:00:00Z',
      id: randomUUID(),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const after = (await org.owner.client.get(url)).body.results.find((m: any) => m.user.uuid === member.user.uuid);
    for (const body of [res.body, after]) {
      expect(body).toMatchObject({ id: before.id, level: 8, joined_at: before.joined_at, user: before.user });
    }
    const [user] = await server.db.query<{ email: string; first_name: string }>('SELECT email, first_name FROM users WHERE uuid = $1', [member.user.uuid]);
    expect(user).toEqual({ email: member.user.email, first_name: 'Mel' });
  });
});

describe("requests Node's HTTP parser refuses", () => {
  it("answers oversized headers with 431 in PostHog's shape", async () => {
    const own = await startServer();
    try {
      const res = await fetch(new URL('/api/users/@me/', own.url), { headers: { 'x-padding': 'a'.repeat(20_000) } });
      expect(res.status).toBe(431);
      expect(await res.json()).toEqual({
        type: 'invalid_request',
        code: 'request_header_fields_too_large',
        detail: 'Request header fields are too large.',
        attr: null,
      });
      expect((await fetch(new URL('/_health', own.url))).status).toBe(200);
    } finally {
      await own.close();
    }
  });
});
