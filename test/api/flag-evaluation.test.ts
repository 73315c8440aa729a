import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateFlag } from '../../src/domain/analytics/flag-evaluation.js';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, type Org } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const flagsUrl = (org: Org) => `/api/projects/${org.defaultProjectId}/feature_flags/`;
const rollout = (percentage: number | null) => ({ groups: [{ properties: [], rollout_percentage: percentage }] });

async function tokenOf(org: Org): Promise<string> {
  const res = await org.owner.client.get(`/api/projects/${org.defaultProjectId}/`);
  return res.body.api_token;
}

async function createFlag(org: Org, body: Record<string, unknown>) {
  const res = await org.owner.client.post(flagsUrl(org), body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: number; key: string };
}

/** A project with a typical set of flags: on, off, targeted, multivariate with payloads, inactive, deleted. */
async function flagWorld() {
  const org = await newOrganization(server.url);
  const token = await tokenOf(org);
  const on = await createFlag(org, { key: 'on', filters: { ...rollout(100), payloads: { true: '{"banner": "hi"}' } } });
  const off = await createFlag(org, { key: 'off', filters: rollout(0) });
  const targeted = await createFlag(org, {
    key: 'targeted',
    filters: { groups: [{ properties: [{ key: 'email', type: 'person', operator: 'icontains', value: '@acme.com' }], rollout_percentage: 100 }] },
  });
  const multi = await createFlag(org, {
    key: 'multi',
    filters: {
      groups: [{ properties: [], rollout_percentage: 100 }],
      multivariate: {
        variants: [
          { key: 'control', rollout_percentage: 50 },
          { key: 'test', rollout_percentage: 50 },
        ],
      },
      payloads: { control: '"c"', test: '"t"' },
    },
  });
  const inactive = await createFlag(org, { key: 'inactive', filters: rollout(100), active: false });
  const deleted = await createFlag(org, { key: 'deleted', filters: rollout(100) });
  expect((await org.owner.client.delete(`${flagsUrl(org)}${deleted.id}/`)).status).toBe(204);
  return { org, token, flags: { on, off, targeted, multi, inactive, deleted } };
}

describe('local evaluation definitions', () => {
  it('serves the flags to a key with feature_flag:read, in PostHog shape, on both paths', async () => {
    const { org, token, flags } = await flagWorld();
    const key = await keyClient(org.owner, ['feature_flag:read']);
    for (const path of ['/api/feature_flag/local_evaluation/', '/api/feature_flag/local_evaluation', '/flags/definitions']) {
      const res = await key.get(`${path}?token=${token}&send_cohorts`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['cohorts', 'flags', 'group_type_mapping']);
      expect(res.body.group_type_mapping).toEqual({});
      expect(res.body.cohorts).toEqual({});
      // Deleted flags are gone; inactive ones are listed (SDKs then answer false locally).
      expect(res.body.flags.map((f: any) => f.key)).toEqual(['on', 'off', 'targeted', 'multi', 'inactive']);
      const on = res.body.flags.find((f: any) => f.key === 'on');
      expect(on).toMatchObject({ id: flags.on.id, team_id: org.defaultProjectId, active: true, deleted: false, ensure_experience_continuity: false });
      expect(on.filters.groups[0].rollout_percentage).toBe(100);
      expect(res.body.flags.find((f: any) => f.key === 'inactive').active).toBe(false);
    }
  });

  it('answers 304 to a poller that already has the current definitions', async () => {
    const { org, token } = await flagWorld();
    const key = await keyClient(org.owner, ['feature_flag:read']);
    const first = await key.get(`/flags/definitions?token=${token}`);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^".+"$/);
    const again = await key.request('GET', `/flags/definitions?token=${token}`, undefined, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    await createFlag(org, { key: 'newer', filters: rollout(1) });
    const changed = await key.request('GET', `/flags/definitions?token=${token}`, undefined, { headers: { 'if-none-match': etag! } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
  });

  it('refuses keys without the scope, keys elsewhere, people elsewhere, and unknown tokens', async () => {
    const { org, token } = await flagWorld();
    const other = await newOrganization(server.url);
    const path = `/api/feature_flag/local_evaluation/?token=${token}`;
    expectError(await (await keyClient(org.owner, ['insight:read'])).get(path), 403, "API key missing required scope 'feature_flag:read'");
    expectError(
      await (await keyClient(org.owner, ['feature_flag:read'], { scoped_teams: [await otherProject(org)] })).get(path),
      403,
      /does not have access to the requested project/,
    );
    expectError(await (await keyClient(other.owner, ['feature_flag:read'])).get(path), 404, 'Project not found.');
    expectError(await new Client(server.url).get(path), 401);
    expectError(await new Client(server.url).withKey('phx_not_a_real_key_000000000000000').get(path), 401);
    expectError(await (await keyClient(org.owner, ['feature_flag:read'])).get('/api/feature_flag/local_evaluation/?token=phc_nope'), 404, 'Project not found.');
  });

  it('shows a member only what the resource gate lets them see', async () => {
    const { org, token } = await flagWorld();
    const member = await addMember(org, 1);
    const mine = await member.client.post(flagsUrl(org), { key: 'member-made', filters: rollout(100) });
    expect(mine.status).toBe(201);
    await server.db.query("INSERT INTO access_controls (team_id, access_level, resource) VALUES ($1, 'none', 'feature_flag')", [org.defaultProjectId]);
    const memberKey = await keyClient(member, ['feature_flag:read']);
    const res = await memberKey.get(`/flags/definitions?token=${token}`);
    expect(res.status).toBe(200);
    expect(res.body.flags.map((f: any) => f.key)).toEqual(['member-made']);
    const ownerKey = await keyClient(org.owner, ['feature_flag:read']);
    expect((await ownerKey.get(`/flags/definitions?token=${token}`)).body.flags.length).toBe(6);
  });
});

async function otherProject(org: Org): Promise<number> {
  const res = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Other' });
  expect(res.status).toBe(201);
  return res.body.id;
}

describe('remote evaluation: /flags', () => {
  it('answers ?v=2 with flag details, as posthog-node expects', async () => {
    const { token, flags } = await flagWorld();
    const anyone = new Client(server.url);
    const res = await anyone.post('/flags/?v=2', { token, distinct_id: 'user-1', person_properties: { email: 'ada@ACME.com' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.errorsWhileComputingFlags).toBe(false);
    expect(res.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof res.body.evaluatedAt).toBe('number');
    expect(Object.keys(res.body.flags).sort()).toEqual(['inactive', 'multi', 'off', 'on', 'targeted']);
    expect(res.body.flags.on).toEqual({
      key: 'on',
      enabled: true,
      variant: null,
      reason: { code: 'condition_match', condition_index: 0, description: 'Matched condition set 1' },
      metadata: { id: flags.on.id, version: 0, description: null, payload: '{"banner": "hi"}' },
    });
    expect(res.body.flags.off).toMatchObject({ enabled: false, reason: { code: 'out_of_rollout_bound', condition_index: 0 }, metadata: { payload: null } });
    expect(res.body.flags.targeted.enabled).toBe(true);
    expect(res.body.flags.inactive).toMatchObject({ enabled: false, reason: { code: 'flag_disabled' } });
    const variant = res.body.flags.multi.variant;
    expect(['control', 'test']).toContain(variant);
    expect(res.body.flags.multi.metadata.payload).toBe(variant === 'control' ? '"c"' : '"t"');

    const stranger = await anyone.post('/flags/?v=2', { api_key: token, distinct_id: 'user-1', person_properties: { email: 'x@other.org' } });
    expect(stranger.body.flags.targeted).toMatchObject({ enabled: false, reason: { code: 'no_condition_match' } });
    const only = await anyone.post('/flags/?v=2', { token, distinct_id: 'user-1', flag_keys_to_evaluate: ['on', 'nope'] });
    expect(Object.keys(only.body.flags)).toEqual(['on']);
  });

  it('answers older callers with the legacy maps', async () => {
    const { token } = await flagWorld();
    const res = await new Client(server.url).post('/flags/', { token, distinct_id: 'user-1' });
    expect(res.status).toBe(200);
    expect(res.body.featureFlags).toMatchObject({ on: true, off: false, targeted: false, inactive: false });
    expect(['control', 'test']).toContain(res.body.featureFlags.multi);
    expect(res.body.featureFlagPayloads.on).toBe('{"banner": "hi"}');
    expect(res.body.flags).toBeUndefined();
    const withConfig = await new Client(server.url).post('/flags/?v=2&config=true', { token, distinct_id: 'user-1' });
    expect(withConfig.body).toMatchObject({ sessionRecording: false, config: { enable_collect_everything: true } });
  });

  it("answers from each flag's cached details text, and a change to a flag shows in the next answer", async () => {
    const { org, token, flags } = await flagWorld();
    const anyone = new Client(server.url);
    const ask = (query = '?v=2') => anyone.post(`/flags/${query}`, { token, distinct_id: 'user-7', person_properties: { email: 'ada@acme.com' } });
    const first = await ask();
    const second = await ask();
    expect(second.body.flags).toEqual(first.body.flags);
    expect(second.body.requestId).not.toBe(first.body.requestId);
    // The body is written by hand around the flags' texts: valid JSON, one entry per flag, JSON's type.
    const raw = await fetch(`${server.url}/flags/?v=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, distinct_id: 'user-7' }),
    });
    expect(raw.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const text = await raw.text();
    expect(Object.keys(JSON.parse(text).flags)).toHaveLength(5);
    expect(text.match(/"metadata":/g)).toHaveLength(5);

    const patched = await org.owner.client.patch(`${flagsUrl(org)}${flags.on.id}/`, {
      filters: { ...rollout(0), payloads: { true: '{"banner": "bye"}' } },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const after = await ask();
    expect(after.body.flags.on).toMatchObject({ enabled: false, reason: { code: 'out_of_rollout_bound' }, metadata: { payload: null } });
    const back = await org.owner.client.patch(`${flagsUrl(org)}${flags.on.id}/`, { filters: { ...rollout(100), payloads: { true: '{"banner": "bye"}' } } });
    expect(back.status).toBe(200);
    expect((await ask()).body.flags.on).toMatchObject({ enabled: true, metadata: { payload: '{"banner": "bye"}' } });

    // With ?config=true the remote config comes first, the flags as before.
    const withConfig = await ask('?v=2&config=true');
    expect(withConfig.body).toMatchObject({ sessionRecording: false, supportedCompression: [], errorsWhileComputingFlags: false });
    expect(Object.keys(withConfig.body.flags).sort()).toEqual(['inactive', 'multi', 'off', 'on', 'targeted']);
  });

  it('agrees with the hashing everywhere: the same users get the same answers', async () => {
    const org = await newOrganization(server.url);
    const token = await tokenOf(org);
    await createFlag(org, { key: 'simple-flag', filters: rollout(45) });
    // PostHog's cross-library consistency vector (see test/unit/flag-hashing.test.ts for its source).
    const expected = '0110100101' + '0110100011';
    const anyone = new Client(server.url);
    let got = '';
    for (let i = 0; i < expected.length; i++) {
      const res = await anyone.post('/flags/?v=2', { token, distinct_id: `distinct_id_${i}` });
      got += res.body.flags['simple-flag'].enabled ? '1' : '0';
    }
    expect(got).toBe(expected);
    // And the server's answer is the pure evaluation's.
    const stored = (await org.owner.client.get(flagsUrl(org))).body.results[0];
    const res = await anyone.post('/flags/?v=2', { token, distinct_id: 'someone' });
    expect(res.body.flags['simple-flag'].enabled).toBe(evaluateFlag(stored, 'someone').enabled);
  });

  it("turns away bad tokens with the flags service's 401, never saying whether a project exists", async () => {
    const { org, token } = await flagWorld();
    const anyone = new Client(server.url);
    const missing = await anyone.post('/flags/?v=2', { distinct_id: 'u' });
    expectError(missing, 401, 'No API token provided. Please include a valid API token in your request.', null);
    expect(missing.body.type).toBe('authentication_error');
    const bodies = [
      { token: 'phc_doesnotexist', distinct_id: 'u' },
      { token: token.slice(0, -1), distinct_id: 'u' },
      { token: 'x'.repeat(5000), distinct_id: 'u' },
      { token: 12345, distinct_id: 'u' },
      { api_key: ['phc'], distinct_id: 'u' },
      { token: '', distinct_id: 'u' },
    ];
    const answers = new Set<string>();
    for (const body of bodies) {
      const res = await anyone.post('/flags/?v=2', body);
      expectError(res, 401, 'The provided API key is invalid or has expired. Please check your API key and try again.', null);
      answers.add(JSON.stringify(res.body));
    }
    expect(answers.size).toBe(1);
    // A personal API key is not a project token.
    const key = await keyClient(org.owner, ['*']);
    expectError(await key.post('/flags/?v=2', { distinct_id: 'u' }), 401, /No API token provided/);
    // The token may come in the query string too.
    expect((await anyone.post(`/flags/?v=2&token=${token}`, { distinct_id: 'u' })).status).toBe(200);
  });

  it('validates the rest of the body, never answering 500', async () => {
    const { token } = await flagWorld();
    const anyone = new Client(server.url);
    expectError(
      await anyone.post('/flags/?v=2', { token }),
      400,
      'The distinct_id field is missing from the request. Please include a valid identifier.',
      'distinct_id',
    );
    expectError(
      await anyone.post('/flags/?v=2', { token, distinct_id: '  ' }),
      400,
      'The distinct_id field cannot be empty. Please provide a valid identifier.',
      'distinct_id',
    );
    expectError(await anyone.post('/flags/?v=2', { token, distinct_id: { id: 1 } }), 400, undefined, 'distinct_id');
    expectError(await anyone.post('/flags/?v=2', { token, distinct_id: 'x'.repeat(401) }), 400, undefined, 'distinct_id');
    expectError(
      await anyone.post('/flags/?v=2', { token, distinct_id: 'u', person_properties: 'vip' }),
      400,
      'Invalid data. Expected a dictionary.',
      'person_properties',
    );
    expectError(await anyone.post('/flags/?v=2', { token, distinct_id: 'u', person_properties: [1] }), 400, undefined, 'person_properties');
    expectError(await anyone.post('/flags/?v=2', { token, distinct_id: 'u', flag_keys_to_evaluate: 'on' }), 400, undefined, 'flag_keys_to_evaluate');
    expectError(await anyone.request('POST', '/flags/?v=2', undefined, { raw: '{not json', headers: { 'content-type': 'application/json' } }), 400);
    const numeric = await anyone.post('/flags/?v=abc', { token, distinct_id: 42, person_properties: { email: null, n: { deep: [1] } } });
    expect(numeric.status).toBe(200);
    expect(numeric.body.featureFlags.on).toBe(true);
  });
});

describe('remote evaluation: /decide', () => {
  it('speaks the older /decide versions', async () => {
    const { token } = await flagWorld();
    const anyone = new Client(server.url);
    const v3 = await anyone.post('/decide/?v=3', { api_key: token, distinct_id: 'user-1' });
    expect(v3.status).toBe(200);
    expect(v3.body.featureFlags).toMatchObject({ on: true, off: false, inactive: false });
    expect(v3.body.featureFlagPayloads).toMatchObject({ on: '{"banner": "hi"}' });
    expect(v3.body.errorsWhileComputingFlags).toBe(false);
    const plain = await anyone.post('/decide/', { token, distinct_id: 'user-1' });
    expect(plain.body.featureFlags).toEqual(v3.body.featureFlags);
    const v2 = await anyone.post('/decide/?v=2', { token, distinct_id: 'user-1' });
    expect(Object.keys(v2.body.featureFlags).sort()).toEqual(['multi', 'on']);
    const v1 = await anyone.post('/decide/?v=1', { token, distinct_id: 'user-1' });
    expect([...v1.body.featureFlags].sort()).toEqual(['multi', 'on']);
    expectError(await anyone.post('/decide/', { api_key: 'phc_nope', distinct_id: 'u' }), 401, /invalid or has expired/);
    // Any key the charset allows is a key like any other, even one JavaScript treats specially.
    const { org } = await flagWorld();
    await createFlag(org, { key: '__proto__', filters: rollout(100) });
    const special = await tokenOf(org);
    for (const path of ['/decide/', '/flags/', '/flags/?v=2']) {
      const res = await anyone.post(path, { token: special, distinct_id: 'u' });
      expect(Object.keys(res.body.featureFlags ?? res.body.flags), path).toContain('__proto__');
    }
    expectError(await anyone.post('/decide/', { token }), 400, undefined, 'distinct_id');
  });
});
