/**
 * Property-based fuzzing of the whole route table over real HTTP (fast-check).
 *
 * test/api/errors.test.ts sends a fixed list of hostile values to every route; this file goes further:
 * generated requests (route, credentials, path parameters, query string, headers, content type,
 * content encoding and body), with field names taken from the server's own OpenAPI document, so the
 * values reach validation and the handlers. Requests go out in concurrent batches.
 *
 * Invariants: never a 5xx; every error in PostHog's `{type, code, detail, attr}` (SCIM's shape under
 * /scim/v2, HTML allowed on the SSO browser routes and the console, anything on /api/schema/ and
 * /metrics); the server stays up; a batch in which every mutating request was rejected changes
 * nothing (a fingerprint of the database before and after it).
 *
 * FUZZ_RUNS (requests, default 21,000) runs longer: `npm run fuzz`. The seed is fixed by default (`npm test`
 * and CI: a failure is the same failure on every run); `FUZZ_SEED=random` draws one (`npm run fuzz`
 * does), and `FUZZ_SEED=<n>` replays a run. The seed is printed before the run starts.
 */
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteEntry } from '../../src/http/route-table.js';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, keyClient, newOrganization, type Org, type Person } from '../helpers/world.js';

const REQUESTS = Number(process.env.FUZZ_RUNS ?? 21_000);
const BATCH = 24;
const BODY_LIMIT = 64 * 1024;
/** The seed of `npm test` and CI. */
const FIXED_SEED = 20_211_205;
const SEED = fuzzSeed(process.env.FUZZ_SEED);

function fuzzSeed(setting: string | undefined): number {
  if (!setting) return FIXED_SEED;
  if (setting === 'random') return (Date.now() ^ (Math.random() * 2 ** 31)) | 0;
  const seed = Number(setting);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random", not ${JSON.stringify(setting)}`);
  return seed;
}

let server: TestServer;

// ---- The world the fuzzer acts in -------------------------------------------------------------

interface World {
  org: Org;
  owner: Person;
  session: Client;
  key: Client;
  projectToken: string;
  ids: Record<string, string[]>;
  foreign: Record<string, string[]>;
}
let world: World;

async function created(res: { status: number; body: any }, what: string): Promise<any> {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body;
}

async function populate(org: Org): Promise<Record<string, string[]>> {
  const c = org.owner.client;
  const p = (await created(await c.post(`/api/organizations/${org.id}/projects/`, { name: 'Private', access_control: true }), 'project')).id;
  const member = await addMember(org, 1);
  await created(await c.post(`/api/projects/${p}/explicit_members/`, { user_uuid: member.user.uuid, level: 1 }), 'explicit member');
  const invite = await created(await c.post(`/api/organizations/${org.id}/invites/`, { target_email: `fz-${randomUUID()}@example.com` }), 'invite');
  const spareKey = await created(await c.post('/api/personal_api_keys/', { label: 'spare', scopes: ['*'] }), 'key');
  const flag = await created(
    await c.post(`/api/projects/${org.defaultProjectId}/feature_flags/`, { key: `flag-${randomUUID().slice(0, 8)}`, name: 'f' }),
    'flag',
  );
  // Flags whose regexes a backtracking engine would never finish: /flags evaluates them for every generated person.
  for (const pattern of ['.*.*.*.*.*.*.*.*x', '(a+)+$', '^(\\w+\\s?)*$']) {
    await created(
      await c.post(`/api/projects/${org.defaultProjectId}/feature_flags/`, {
        key: `redos-${randomUUID().slice(0, 8)}`,
        filters: { groups: [{ properties: [{ key: 'email', operator: 'regex', value: pattern }], rollout_percentage: 100 }] },
      }),
      'hostile regex flag',
    );
  }
  const insight = await created(await c.post(`/api/projects/${org.defaultProjectId}/insights/`, { name: 'i' }), 'insight');
  const dashboard = await created(await c.post(`/api/projects/${org.defaultProjectId}/dashboards/`, { name: 'd' }), 'dashboard');
  const role = await created(await c.post(`/api/organizations/${org.id}/roles/`, { name: `r-${randomUUID().slice(0, 8)}` }), 'role');
  const rm = await created(await c.post(`/api/organizations/${org.id}/roles/${role.id}/role_memberships/`, { user_uuid: member.user.uuid }), 'role membership');
  const account = await created(await c.post(`/api/organizations/${org.id}/service_accounts/`, { name: 'bot' }), 'service account');
  const domain = await created(await c.post(`/api/organizations/${org.id}/domains/`, { domain: `fz${randomUUID().slice(0, 8)}.example.com` }), 'domain');
  const policy = await created(await c.post(`/api/projects/${org.defaultProjectId}/approval_policies/`, { action: 'delete_feature_flag' }), 'policy');
  return {
    organization_id: [org.id, '@current'],
    project_id: [String(org.defaultProjectId), String(p)],
    user_uuid: [member.user.uuid, org.owner.user.uuid],
    user_id: ['@me', member.user.uuid],
    invite_id: [invite.id],
    key_id: [spareKey.id],
    flag_id: [String(flag.id)],
    insight_id: [String(insight.id)],
    dashboard_id: [String(dashboard.id)],
    id: [String(flag.id), String(insight.id), String(dashboard.id)],
    role_id: [String(role.id)],
    membership_id: [String(rm.id)],
    account_id: [String(account.id)],
    domain_id: [String(domain.id)],
    policy_id: [String(policy.id)],
  };
}

// ---- What the server says about its own routes ------------------------------------------------

interface BodyShape {
  fields: Map<string, { type?: string; enum?: unknown[] }>;
}
const shapes = new Map<string, BodyShape>();

async function learnShapes(): Promise<void> {
  const res = await fetch(`${server.url}/api/schema/`);
  const doc: any = await res.json().catch(() => null);
  for (const [path, item] of Object.entries<any>(doc?.paths ?? {})) {
    const url = path.replace(/\{(\w+)\}/g, ':$1');
    for (const [method, op] of Object.entries<any>(item ?? {})) {
      const schema = op?.requestBody?.content?.['application/json']?.schema;
      const fields = new Map<string, { type?: string; enum?: unknown[] }>();
      for (const [name, prop] of Object.entries<any>(schema?.properties ?? {})) fields.set(name, { type: prop?.type, enum: prop?.enum });
      if (fields.size > 0) shapes.set(`${method.toUpperCase()} ${url}`, { fields });
    }
  }
}

const FALLBACK_FIELDS = [
  'name',
  'level',
  'email',
  'password',
  'scopes',
  'access_control',
  'key',
  'user_uuid',
  'target_email',
  'label',
  'filters',
  'document',
  'domain',
  'url',
  'event',
  'api_key',
  'batch',
  'properties',
  'distinct_id',
  'token',
];

// ---- Generators --------------------------------------------------------------------------------

const SPECIAL_CHARS = [
  '\u0000',
  '\ud800',
  '\udfff',
  '\ud83d',
  '\ufeff',
  '\u202e',
  '\u2028',
  '"',
  '\\',
  "'",
  '%',
  '%00',
  '../',
  '💥',
  'Ω',
  '\r\n',
  '\t',
  '<script>',
  '${',
  '{{',
];
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...SPECIAL_CHARS), { maxLength: 6 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...SPECIAL_CHARS)).map(([a, b]) => a + b) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('x'.repeat(5_000), 'a@example.com', 'phx_' + 'A'.repeat(48), randomUUID(), '2024-01-01T00:00:00Z', 'feature_flag:read', '*'),
  },
);
const number = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -1, 1, 8, 15, 2 ** 31, 2 ** 31 - 1, -(2 ** 31) - 1, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 1e308, -1e308, 5e-324, 0.5, -0),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const leaf = fc.oneof(text, number, fc.boolean(), fc.constant(null));
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(text, fc.constantFrom(...FALLBACK_FIELDS, '__proto__', 'constructor')), tie('v'), { maxKeys: 4 }),
  ),
})).v;

/**
 * Regexes built to make a backtracking engine take exponential time (nested and overlapping
 * quantifiers), plus ones RE2 refuses (backreferences, lookaround) and broken ones. Saved flags
 * must either refuse them on `filters` or evaluate them in linear time.
 */
const REGEX_ATOMS = ['a', '.', '\\w', '\\s', '[ab]', '(a|aa)', '(a|a?)', 'x', '\\d'];
const hostileRegex = fc.oneof(
  fc.constantFrom(
    '(a+)+$',
    '(a*)*b',
    '(a|aa)*c',
    '.*.*.*.*.*.*.*.*x',
    '^(\\w+\\s?)*$',
    '(x+x+)+y',
    '(.*a){12}',
    '(a)\\1',
    'x(?=y)',
    '(?<!a)b',
    '[',
    '(',
    '\\',
    'a{99999}',
  ),
  fc
    .array(fc.tuple(fc.constantFrom(...REGEX_ATOMS), fc.constantFrom('*', '+', '?', '{2,}', '*?', '')), { minLength: 1, maxLength: 8 })
    .chain((parts) => fc.tuple(fc.constant(parts.map(([a, q]) => a + q).join('')), fc.constantFrom('(%s)+$', '(%s)*', '%s', '^(%s)+x', '(?:%s|%s)*z')))
    .map(([body, shape]) => shape.replaceAll('%s', body)),
);
/** What the hostile regexes are matched against: long runs of what they almost match. */
const hostileInput = fc
  .tuple(fc.constantFrom('a', 'ab', ' a', 'x'), fc.integer({ min: 20, max: 12_000 }), fc.constantFrom('', '!', 'y', '\u0000'))
  .map(([unit, n, end]) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n) + end);
const hostileFilters = fc.tuple(hostileRegex, fc.constantFrom('regex', 'not_regex')).map(([value, operator]) => ({
  groups: [{ properties: [{ key: 'email', type: 'person', operator, value }], rollout_percentage: 100 }],
}));

/** XML that costs a parser or XPath a lot for its size: tens of thousands of siblings, or thousands deep. */
const hostileXml = fc.tuple(fc.constantFrom('wide', 'deep', 'wide-attrs'), fc.integer({ min: 1_000, max: 60_000 })).map(([shape, n]) => {
  const open =
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_f" Version="2.0" InResponseTo="_x"><saml:Issuer>urn:fuzz</saml:Issuer><saml:Assertion ID="_a">';
  const close = '</saml:Assertion></samlp:Response>';
  if (shape === 'wide') return `${open}${'<a/>'.repeat(n)}${close}`;
  if (shape === 'wide-attrs') return `${open}${'<a ID="_a"/>'.repeat(Math.floor(n / 3))}${close}`;
  const depth = Math.min(n, 20_000);
  return `${open}${'<d>'.repeat(depth)}${'</d>'.repeat(depth)}${close}`;
});

/** A value for a field of a known type: usually right-typed (to get past validation), sometimes not. */
function fieldValue(shape?: { type?: string; enum?: unknown[] }): fc.Arbitrary<unknown> {
  const right: fc.Arbitrary<unknown>[] = [];
  if (shape?.enum?.length) right.push(fc.constantFrom(...shape.enum));
  if (shape?.type === 'string') right.push(text);
  if (shape?.type === 'integer' || shape?.type === 'number') right.push(number);
  if (shape?.type === 'boolean') right.push(fc.boolean());
  if (shape?.type === 'array') right.push(fc.array(leaf, { maxLength: 5 }));
  if (shape?.type === 'object') right.push(fc.dictionary(text, leaf, { maxKeys: 4 }));
  return right.length ? fc.oneof({ weight: 3, arbitrary: fc.oneof(...right) }, { weight: 1, arbitrary: value }) : value;
}

function nest(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

type Encoding = 'none' | 'gzip' | 'gzip-truncated' | 'gzip-garbage' | 'deflate-claimed' | 'br-claimed' | 'unknown';

interface Body {
  raw?: Buffer;
  contentType?: string;
  encoding: Encoding;
  what: string;
}

function bodyFor(route: RouteEntry): fc.Arbitrary<Body> {
  const shape = shapes.get(`${route.method} ${route.url}`);
  const names = shape ? [...shape.fields.keys()] : FALLBACK_FIELDS;
  const object = fc
    .array(fc.constantFrom(...names), { maxLength: Math.min(names.length, 6) })
    .chain((keys) => fc.tuple(...[...new Set(keys)].map((k) => fieldValue(shape?.fields.get(k)).map((v) => [k, v] as const))))
    .chain((entries) => fc.tuple(fc.constant(Object.fromEntries(entries)), fc.dictionary(text, value, { maxKeys: 2 })))
    .map(([known, extra]) => ({ ...extra, ...known }));
  const json = fc.oneof(
    { weight: 8, arbitrary: object.map((o) => ['object', JSON.stringify(o)] as const) },
    { weight: 2, arbitrary: value.map((v) => ['any json', JSON.stringify(v) ?? 'null'] as const) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...names), fieldValue(shape?.fields.get(names[0]!)), value)
        .map(([k, a, b]) => ['duplicate keys', `{${JSON.stringify(k)}:${JSON.stringify(a) ?? 1},${JSON.stringify(k)}:${JSON.stringify(b) ?? 2}}`] as const),
    },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc
          .tuple(hostileFilters, fc.string({ maxLength: 8 }))
          .map(([filters, k]) => ['hostile regex filters', JSON.stringify({ key: `re-${k}`, name: 're', filters })] as const),
        fc
          .tuple(hostileInput, fc.string({ maxLength: 8 }))
          .map(([email, d]) => ['hostile regex input', JSON.stringify({ distinct_id: `d${d}`, person_properties: { email } })] as const),
        hostileXml.map((xml) => ['hostile metadata xml', JSON.stringify({ saml_metadata_xml: xml })] as const),
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 50, max: 20_000 }), fc.constantFrom('array' as const, 'object' as const))
        .map(([d, k]) => [`${d}-deep ${k}`, `{"${names[0]}":${nest(d, k)}}`] as const),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ['overflow', `{"${names[0]}": 1e999, "level": -1e999, "id": 123456789012345678901234567890}`],
        ['raw lone surrogate', `{"${names[0]}": "\\ud800x", "name": "\\udfff"}`],
        ['raw NUL escape', `{"${names[0]}": "a\\u0000b"}`],
        ['truncated', `{"${names[0]}": "abc`],
        ['bom', '\ufeff{}'],
        ['trailing garbage', '{} {}'],
        ['bare NUL', '\u0000'],
        ['empty', ''],
      ) as fc.Arbitrary<readonly [string, string]>,
    },
  );
  const contentType = fc.oneof(
    { weight: 10, arbitrary: fc.constant('application/json') },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        undefined,
        'text/plain',
        'application/xml',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=utf-16',
        'application/json; charset=latin1',
        'application/scim+json',
        'application/octet-stream',
        'application/jsonx',
        ';;;',
        'application/json, text/plain',
      ),
    },
  );
  const encoding: fc.Arbitrary<Encoding> = fc.oneof(
    { weight: 12, arbitrary: fc.constant<Encoding>('none') },
    { weight: 3, arbitrary: fc.constantFrom<Encoding>('gzip', 'gzip-truncated', 'gzip-garbage') },
    { weight: 1, arbitrary: fc.constantFrom<Encoding>('deflate-claimed', 'br-claimed', 'unknown') },
  );
  const oversized = fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 3 }).map((n) => ({
    raw: Buffer.from(JSON.stringify({ [names[0]!]: 'x'.repeat(n) })),
    contentType: 'application/json',
    encoding: 'none' as Encoding,
    what: `oversized ${n}`,
  }));
  const normal = fc.tuple(json, contentType, encoding).map(([[what, s], ct, enc]): Body => {
    let raw = Buffer.from(s);
    if (enc === 'gzip') raw = gzipSync(raw);
    else if (enc === 'gzip-truncated') raw = gzipSync(raw).subarray(0, Math.max(2, Math.floor(raw.length / 2)));
    else if (enc === 'gzip-garbage') raw = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), raw]);
    return { raw, contentType: ct, encoding: enc, what: `${what}${enc === 'none' ? '' : ` ${enc}`}` };
  });
  const bytes = fc
    .uint8Array({ maxLength: 200 })
    .map((b): Body => ({ raw: Buffer.from(b), contentType: 'application/json', encoding: 'none', what: 'random bytes' }));
  const samlForm = hostileXml.map(
    (xml): Body => ({
      raw: Buffer.from(new URLSearchParams({ SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: world.ids.domain_id?.[0] ?? '' }).toString()),
      contentType: 'application/x-www-form-urlencoded',
      encoding: 'none',
      what: `hostile SAML xml (${xml.length} chars)`,
    }),
  );
  if (route.url === '/complete/saml/') return fc.oneof({ weight: 3, arbitrary: samlForm }, { weight: 1, arbitrary: normal });
  return fc.oneof(
    { weight: 20, arbitrary: normal },
    { weight: 1, arbitrary: oversized },
    { weight: 2, arbitrary: bytes },
    { weight: 1, arbitrary: fc.constant<Body>({ encoding: 'none', what: 'no body' }) },
  );
}

const GARBAGE_SEGMENTS = [
  'x',
  '-1',
  '0',
  '1.5',
  '1e3',
  '99999999999999999999',
  '2147483648',
  '%00',
  '%zz',
  '%F0%9F%92%A5',
  '%ED%A0%80',
  "'%20OR%201=1",
  '..',
  '%2e%2e',
  'a'.repeat(400),
  '@me',
  '@current',
  'null',
  'true',
  '[]',
  '%20',
  'phx_x',
];
function segment(name: string, useReal: boolean): fc.Arbitrary<string> {
  const real = useReal ? (world.ids[name] ?? []) : [];
  const foreign = world.foreign[name] ?? [];
  const options: Array<{ weight: number; arbitrary: fc.Arbitrary<string> }> = [
    { weight: 3, arbitrary: fc.constantFrom(...GARBAGE_SEGMENTS) },
    { weight: 2, arbitrary: text.map((t) => encodeURIComponent(t.replace(/[\ud800-\udfff]/g, '')) || 'x') },
    { weight: 1, arbitrary: fc.oneof(fc.uuid().map(String), fc.integer({ min: -10, max: 1e9 }).map(String)) },
  ];
  if (real.length) options.push({ weight: 8, arbitrary: fc.constantFrom(...real) });
  if (foreign.length) options.push({ weight: 2, arbitrary: fc.constantFrom(...foreign) });
  return fc.oneof(...options);
}

const QUERY_KEYS = [
  'limit',
  'offset',
  'search',
  'email',
  'scope',
  'scopes',
  'user',
  'item_id',
  'after',
  'before',
  'project',
  'page',
  'cursor',
  'format',
  'token',
  'personal_api_key',
  'filter',
  'startIndex',
  'count',
  'include_organization_scoped',
  'compression',
  'ver',
  'key',
  'next',
  'domain_id',
  'state',
  'code',
  'event',
];
const queryString = fc
  .array(
    fc.tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...QUERY_KEYS) }, { weight: 1, arbitrary: text }),
      fc.oneof(
        text,
        number.map(String),
        fc.constantFrom('', '%00', '%zz', '%ED%A0%80', 'gzip-js', 'csv', 'ndjson', 'Organization', 'userName eq "x"', 'a'.repeat(3000)),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) =>
    pairs
      .map(([k, v]) => {
        const enc = (raw: string) => {
          const s = raw.replace(/[\ud800-\udfff]/g, '\ufffd');
          return /%[0-9A-Fa-f]{2}|%zz/.test(s) ? s.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c)).replace(/[#&]/g, '') : encodeURIComponent(s);
        };
        return `${enc(k)}=${enc(v)}`;
      })
      .join('&'),
  );

type Auth = 'session' | 'key' | 'session-no-csrf' | 'anonymous' | 'bogus-key' | 'key-in-query';
const auth = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Auth>('session') },
  { weight: 6, arbitrary: fc.constant<Auth>('key') },
  { weight: 1, arbitrary: fc.constantFrom<Auth>('session-no-csrf', 'anonymous', 'bogus-key', 'key-in-query') },
);

interface FuzzRequest {
  route: RouteEntry;
  method: string;
  path: string;
  auth: Auth;
  body?: Body;
  headers: Record<string, string>;
}

function requestArb(routes: RouteEntry[]): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom(...routes).chain((route) => {
    const params = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    const hasBody = route.method !== 'GET';
    return fc
      .record({
        // Deleting the fuzzer's own organization, members or projects would leave nothing to fuzz: DELETE
        // gets foreign and garbage ids only.
        params: fc.tuple(...params.map((p) => segment(p, route.method !== 'DELETE'))),
        query: fc.option(queryString, { nil: undefined, freq: 2 }),
        auth,
        body: hasBody ? bodyFor(route).map((b) => b as Body | undefined) : fc.option(bodyFor(route), { nil: undefined, freq: 8 }),
        tokenInBody: fc.boolean(),
        extraHeaders: fc.dictionary(
          fc.constantFrom('accept', 'accept-encoding', 'x-forwarded-for', 'x-request-id', 'origin', 'accept-language', 'x-csrftoken', 'cookie'),
          fc.oneof(
            text.map((t) => t.replace(/[^\x20-\x7e]/g, '')),
            fc.constantFrom('text/html', 'application/scim+json', '*/*', 'https://evil.example', 'sessionid=x', 'a'.repeat(3000)),
          ),
          { maxKeys: 2 },
        ),
      })
      .map(({ params: values, query, auth: a, body, tokenInBody, extraHeaders }) => {
        let i = 0;
        let path = route.url.replace(/:(\w+)/g, () => values[i++]!);
        if (route.url === '/*') path = `/${tokenInBody ? 'console/' : ''}${encodeURIComponent((query ?? 'x').replace(/[\ud800-\udfff]/g, ''))}`;
        // Project-token routes get the real token in the body or query sometimes, so they get past it.
        if (route.access.kind === 'project_token' && tokenInBody && body?.raw && body.encoding === 'none') {
          const s = body.raw.toString();
          if (s.startsWith('{'))
            body = { ...body, raw: Buffer.from(`{"api_key":${JSON.stringify(world.projectToken)},` + s.slice(1).replace(/^\s*}/, '"x":1}')) };
        }
        if (query) path += `?${query}`;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(extraHeaders)) if (v) headers[k] = v;
        return { route, method: route.method, path, auth: a, body, headers };
      });
  });
}

// ---- Checks -----------------------------------------------------------------------------------

const ERROR_KEYS = 'attr,code,detail,type';
const ERROR_TYPES = new Set(['validation_error', 'authentication_error', 'invalid_request', 'throttled_error', 'server_error']);
const HTML_ROUTES = ['/complete/saml', '/login/saml', '/complete/oidc', '/login/oidc'];
const API_PREFIXES = ['/api/', '/scim/', '/flags', '/decide', '/capture', '/batch', '/e/', '/i/v0/', '/_health', '/metrics', '/complete/', '/login/'];

function errorProblem(pathname: string, status: number, contentType: string, body: string): string | null {
  if (status >= 500) return `${status} ${body.slice(0, 300)}`;
  if (status < 400) return null;
  if (pathname.startsWith('/api/schema') || pathname.startsWith('/metrics')) return null;
  if (pathname.startsWith('/scim/v2/')) {
    let b: any;
    try {
      b = JSON.parse(body);
    } catch {
      return `SCIM error not JSON: ${body.slice(0, 200)}`;
    }
    const ok =
      contentType.startsWith('application/scim+json') &&
      b?.schemas?.[0] === 'urn:ietf:params:scim:api:messages:2.0:Error' &&
      b.status === String(status) &&
      typeof b.detail === 'string';
    return ok ? null : `SCIM error in the wrong shape: ${body.slice(0, 200)}`;
  }
  if (HTML_ROUTES.some((p) => pathname === p || pathname.startsWith(`${p}/`)) && contentType.startsWith('text/html')) return null;
  if (!API_PREFIXES.some((p) => pathname.startsWith(p)) && contentType.startsWith('text/html')) return null; // the console
  let b: any;
  try {
    b = JSON.parse(body);
  } catch {
    return `error not JSON (${contentType}): ${body.slice(0, 200)}`;
  }
  const keys = Object.keys(b && typeof b === 'object' ? b : {})
    .sort()
    .join();
  if (keys !== ERROR_KEYS || !ERROR_TYPES.has(b.type) || typeof b.detail !== 'string' || typeof b.code !== 'string')
    return `wrong error shape: ${body.slice(0, 200)}`;
  return null;
}

/**
 * A cheap fingerprint: row counts of every table, plus content digests of the ones that matter most.
 * Security events (written on purpose for rejected requests) and read events (written for successful
 * reads once an organization asks for them) are left out.
 */
let TABLES: string[] = [];
async function fingerprint(): Promise<string> {
  const parts = TABLES.map((t) =>
    t === 'activity_log'
      ? `(SELECT count(*)::text || '/' || coalesce(max(seq)::text, '') FROM activity_log WHERE scope <> 'Security' AND activity NOT IN ('viewed', 'exported'))`
      : `(SELECT count(*)::text FROM ${t})`,
  );
  parts.push(
    `(SELECT md5(coalesce(string_agg(organization_id::text || user_id::text || level::text, ',' ORDER BY organization_id, user_id), '')) FROM organization_memberships)`,
  );
  parts.push(`(SELECT md5(coalesce(string_agg(id::text || name || access_control::text || updated_at::text, ',' ORDER BY id), '')) FROM projects)`);
  parts.push(`(SELECT md5(coalesce(string_agg(id::text || name || updated_at::text, ',' ORDER BY id), '')) FROM organizations)`);
  parts.push(`(SELECT md5(coalesce(string_agg(id::text || coalesce(secure_value, ''), ',' ORDER BY id), '')) FROM personal_api_keys)`);
  const [row] = await server.db.query<{ f: string }>(`SELECT concat_ws('|', ${parts.join(', ')}) AS f`);
  return row!.f;
}

// ---- The run ----------------------------------------------------------------------------------

beforeAll(async () => {
  // Domain verification asks a resolver that is not there (loopback only).
  server = await startServer({ bodyLimit: BODY_LIMIT, dnsServers: ['127.0.0.1:9'], logLevel: process.env.FUZZ_LOG ?? 'silent' });
  const org = await newOrganization(server.url, 'Fuzz');
  const key = await keyClient(org.owner, ['*']);
  const ids = await populate(org);
  const other = await newOrganization(server.url, 'Elsewhere');
  const foreign = await populate(other);
  const [project] = await server.db.query<{ api_token: string }>('SELECT api_token FROM projects WHERE id = $1', [org.defaultProjectId]);
  world = { org, owner: org.owner, session: org.owner.client, key, projectToken: project!.api_token, ids, foreign };
  const tables = await server.db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  // Operational tables a rejected request may touch on purpose (rate limits) or the background updates.
  TABLES = tables.map((t) => t.table_name).filter((t) => !/rate|limit|throttle|migration|chain|sink|lock|cache|sso_requests/.test(t));
  await learnShapes();
}, 120_000);
afterAll(() => server?.close());

describe('route fuzzing', () => {
  it(`never answers 5xx or an error outside PostHog's shape, and rejected requests change nothing (${REQUESTS} requests)`, {
    timeout: Math.max(600_000, REQUESTS * 50),
  }, async () => {
    console.log(`route fuzz: seed ${SEED}${process.env.FUZZ_SEED ? '' : ' (the fixed seed; FUZZ_SEED=random draws one)'}; replay with FUZZ_SEED=${SEED}`);
    expect(TABLES).toContain('activity_log');
    // Logging out would end the session under the fuzzer; it is fuzzed anonymously below.
    const routes = server.routes.filter((r) => r.url !== '/api/logout/');
    expect(routes.length).toBeGreaterThan(100);
    const bogus = new Client(server.url).withKey('phx_' + 'B'.repeat(48));
    const problems = new Map<string, string>();
    const stats = { sent: 0, byStatus: new Map<number, number>(), checkedBatches: 0, uncheckedBatches: 0, rejectedMutations: 0 };
    const sessionCookie = () => `sessionid=${(world.session as any).cookies.get('sessionid')}; posthog_csrftoken=${world.session.csrfToken}`;

    async function send(r: FuzzRequest): Promise<number> {
      const headers: Record<string, string> = { ...r.headers };
      let path = r.path;
      if (r.auth === 'session' || r.auth === 'session-no-csrf') {
        headers.cookie = sessionCookie();
        if (r.auth === 'session') headers['x-csrftoken'] = world.session.csrfToken!;
      } else if (r.auth === 'key') headers.authorization = `Bearer ${(world.key as any).auth.key}`;
      else if (r.auth === 'bogus-key') headers.authorization = `Bearer ${(bogus as any).auth.key}`;
      else if (r.auth === 'key-in-query') path += `${path.includes('?') ? '&' : '?'}personal_api_key=${encodeURIComponent((world.key as any).auth.key)}`;
      if (r.body?.contentType) headers['content-type'] = r.body.contentType;
      if (r.body && r.body.encoding !== 'none') {
        headers['content-encoding'] = {
          gzip: 'gzip',
          'gzip-truncated': 'gzip',
          'gzip-garbage': 'gzip',
          'deflate-claimed': 'deflate',
          'br-claimed': 'br',
          unknown: 'zstd',
        }[r.body.encoding];
      }
      const what = `${r.method} ${r.route.url} [${r.auth}] ${r.path.slice(0, 120)} ${r.body?.what ?? ''}`;
      let status = 0;
      const t0 = performance.now();
      try {
        const res = await fetch(new URL(path, server.url), {
          method: r.method,
          headers,
          body: r.body?.raw && r.method !== 'GET' ? new Uint8Array(r.body.raw) : undefined,
          redirect: 'manual',
        });
        status = res.status;
        const body = await res.text();
        const pathname = new URL(res.url || new URL(path, server.url).toString()).pathname;
        const problem = errorProblem(pathname, status, res.headers.get('content-type') ?? '', body);
        if (problem) {
          const k = `${r.method} ${r.route.url} ${status} ${problem.slice(0, 60)}`;
          if (!problems.has(k)) problems.set(k, `${what} -> ${problem}`);
        }
      } catch (err) {
        const k = `${r.method} ${r.route.url} transport`;
        if (!problems.has(k)) problems.set(k, `${what} -> transport error ${(err as Error).message}`);
      }
      stats.sent++;
      const ms = performance.now() - t0;
      slow.push([ms, what.slice(0, 140)]);
      stats.byStatus.set(status, (stats.byStatus.get(status) ?? 0) + 1);
      return status;
    }

    const slow: Array<[number, string]> = [];
    const batches = Math.ceil(REQUESTS / BATCH);
    await fc.assert(
      fc.asyncProperty(fc.array(requestArb(routes), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const before = await fingerprint();
        const statuses: number[] = [];
        // Eight at a time: concurrent, yet bounded on a two-core machine.
        for (let i = 0; i < batch.length; i += 8) statuses.push(...(await Promise.all(batch.slice(i, i + 8).map(send))));
        const mutated = batch.some((r, i) => r.method !== 'GET' && statuses[i]! < 400);
        if (mutated) {
          stats.uncheckedBatches++;
          return;
        }
        stats.rejectedMutations += batch.filter((r) => r.method !== 'GET').length;
        stats.checkedBatches++;
        const after = await fingerprint();
        if (after !== before) {
          const list = batch.map((r, i) => `${statuses[i]} ${r.method} ${r.path.slice(0, 100)} ${r.body?.what ?? ''}`).join('\n  ');
          problems.set(`changed ${problems.size}`, `a batch of rejected requests changed the database:\n  ${list}\n  before ${before}\n  after  ${after}`);
        }
      }),
      { numRuns: batches, seed: SEED, endOnFailure: true },
    );

    // Logout, anonymously and with garbage, must not break anything either.
    for (const body of ['{}', '[]', '{"x":', '']) {
      await send({
        route: server.routes.find((r) => r.url === '/api/logout/')!,
        method: 'POST',
        path: '/api/logout/',
        auth: 'anonymous',
        headers: {},
        body: { raw: Buffer.from(body), contentType: 'application/json', encoding: 'none', what: body },
      });
    }

    if (process.env.FUZZ_PROFILE) {
      slow.sort((a, b) => b[0] - a[0]);
      console.log(
        slow
          .slice(0, 25)
          .map(([m, w]) => `${m.toFixed(0)}ms ${w}`)
          .join('\n'),
        'total',
        slow.reduce((a, b) => a + b[0], 0),
      );
    }
    const health = await fetch(`${server.url}/_health`);
    expect(health.status).toBe(200);
    // The session and the key the fuzzer used still work: nothing it sent took them away.
    expect((await world.key.get('/api/users/@me/')).status).toBe(200);
    const summary = [...stats.byStatus]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}:${n}`)
      .join(' ');
    console.log(
      `route fuzz (seed ${SEED}): ${stats.sent} requests over ${routes.length} routes; statuses ${summary}; ` +
        `${stats.checkedBatches} all-rejected batches (${stats.rejectedMutations} rejected mutating requests) fingerprinted unchanged, ${stats.uncheckedBatches} batches with a successful write`,
    );
    expect([...problems.values()], `seed ${SEED}`).toEqual([]);
    expect(stats.sent).toBeGreaterThanOrEqual(REQUESTS);
    expect(stats.checkedBatches).toBeGreaterThan(batches / 10);
  });
});
