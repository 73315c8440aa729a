/**
 * What posthog-js needs from Warden over HTTP, request by request: CORS on the SDK routes (any
 * origin, no credentials, preflights answered) and none on the management API unless an operator
 * lists origins; every body encoding the SDKs send to /flags and /decide; the remote config.
 * test/console/posthog-js.test.ts drives the real SDK in a real browser.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { newOrganization, type Org } from '../helpers/world.js';

let server: TestServer;
let org: Org;
let token: string;
const APP = 'http://app.example.test:3000';

beforeAll(async () => {
  server = await startServer({ corsOrigins: ['https://admin.example.test'] });
  org = await newOrganization(server.url);
  token = (await org.owner.client.get(`/api/projects/${org.defaultProjectId}/`)).body.api_token;
  const flag = await org.owner.client.post(`/api/projects/${org.defaultProjectId}/feature_flags/`, {
    key: 'banner',
    filters: { groups: [{ properties: [], rollout_percentage: 100 }], payloads: { true: '{"text":"hi"}' } },
  });
  expect(flag.status).toBe(201);
});
afterAll(() => server?.close());

const post = (path: string, body: string | Buffer, headers: Record<string, string>) =>
  fetch(`${server.url}${path}`, { method: 'POST', body: body as BodyInit, headers: { origin: APP, ...headers } });

describe('CORS', () => {
  it('answers preflights on every SDK route for any origin, without credentials', async () => {
    for (const path of ['/flags/?v=2', '/decide/?v=3', '/e/', '/i/v0/e/', '/batch/', '/capture/', '/e', `/array/${token}/config`]) {
      const res = await fetch(`${server.url}${path}`, {
        method: 'OPTIONS',
        headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-custom' },
      });
      expect(res.status, path).toBe(204);
      expect(res.headers.get('access-control-allow-origin'), path).toBe('*');
      expect(res.headers.get('access-control-allow-credentials'), path).toBeNull();
      expect(res.headers.get('access-control-allow-methods'), path).toContain('POST');
      expect(res.headers.get('access-control-allow-headers'), path).toBe('content-type,x-custom');
    }
    // A header list that is not one is not echoed.
    const odd = await fetch(`${server.url}/flags/`, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-headers': 'a b; c' } });
    expect(odd.headers.get('access-control-allow-headers')).toBe('Content-Type');
    // Answers, errors included, carry the header so the page can read them.
    const denied = await post('/flags/?v=2', JSON.stringify({ token: 'phc_nope', distinct_id: 'x' }), { 'content-type': 'application/json' });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('gives the management API no CORS, except to the origins the operator lists', async () => {
    const ask = (origin: string) =>
      fetch(`${server.url}/api/users/@me/`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    const stranger = await ask(APP);
    expect(stranger.status).toBe(405);
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    const listed = await ask('https://admin.example.test');
    expect(listed.status).toBe(204);
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://admin.example.test');
    expect(listed.headers.get('access-control-allow-headers')).toContain('Authorization');
    expect(listed.headers.get('access-control-allow-credentials')).toBeNull();
    const get = await fetch(`${server.url}/api/users/@me/`, { headers: { origin: APP } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    // The setting takes origins only.
    expect(loadConfig({}, { WARDEN_CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).corsOrigins).toEqual([
      'https://a.example',
      'http://localhost:3000',
    ]);
    expect(() => loadConfig({}, { WARDEN_CORS_ORIGINS: 'https://a.example/path' })).toThrow(/WARDEN_CORS_ORIGINS/);
    expect(() => loadConfig({}, { WARDEN_CORS_ORIGINS: '*' })).toThrow(/WARDEN_CORS_ORIGINS/);
  });
});

describe('flag evaluation bodies', () => {
  it('reads JSON, text/plain, form-encoded base64, gzip-js and Content-Encoding gzip alike', async () => {
    const body = JSON.stringify({ token, distinct_id: 'user-1' });
    const base64 = Buffer.from(body).toString('base64');
    const variants: Array<[string, string | Buffer, Record<string, string>]> = [
      ['/flags/?v=2', body, { 'content-type': 'application/json' }],
      ['/flags/?v=2', body, { 'content-type': 'text/plain;charset=UTF-8' }],
      ['/flags/?v=2&compression=base64', `data=${encodeURIComponent(base64)}`, { 'content-type': 'application/x-www-form-urlencoded' }],
      ['/flags/?v=2', `data=${encodeURIComponent(body)}`, { 'content-type': 'application/x-www-form-urlencoded' }],
      ['/flags/?v=2&compression=gzip-js', gzipSync(body), { 'content-type': 'text/plain' }],
      ['/flags/?v=2', gzipSync(body), { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
    ];
    for (const [path, payload, headers] of variants) {
      const res = await post(path, payload, headers);
      const json = (await res.json()) as any;
      expect(res.status, `${path} ${headers['content-type']}: ${JSON.stringify(json)}`).toBe(200);
      expect(json.flags.banner).toMatchObject({ enabled: true, metadata: { payload: '{"text":"hi"}' } });
    }
    const decide = await post('/decide/?v=3&compression=base64', `data=${encodeURIComponent(base64)}`, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(((await decide.json()) as any).featureFlags).toEqual({ banner: true });
    // Broken encodings are the caller's error, in PostHog's shape.
    const broken = await post('/flags/?v=2&compression=gzip-js', Buffer.from('not gzip'), { 'content-type': 'text/plain' });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as any).detail).toMatch(/^Malformed request data/);
    const empty = await post('/flags/?v=2', 'data=', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as any).code).toBe('no_data');
    // The rest of the API still takes JSON only.
    const login = await post('/api/login/', 'email=a', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(login.status).toBe(415);
  });
});

describe('remote config', () => {
  it('serves the JSON and the script posthog-js loads, and one 404 for any unknown token', async () => {
    const json = await fetch(`${server.url}/array/${token}/config`, { headers: { origin: APP } });
    expect(json.status).toBe(200);
    expect(json.headers.get('access-control-allow-origin')).toBe('*');
    const config = (await json.json()) as any;
    expect(config).toMatchObject({ token, hasFeatureFlags: true, supportedCompression: ['gzip', 'gzip-js'], sessionRecording: false, surveys: false });
    const js = await fetch(`${server.url}/array/${token}/config.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^application\/javascript/);
    const window: Record<string, any> = {};
    new Function('window', await js.text())(window);
    expect(window._POSTHOG_REMOTE_CONFIG[token]).toEqual({ config: { ...config, siteApps: undefined }, siteApps: [] });
    for (const path of ['/array/phc_nope/config', '/array/phc_nope/config.js']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null });
    }
    // A project without active flags tells posthog-js not to ask for them.
    const other = await newOrganization(server.url);
    const otherToken = (await other.owner.client.get(`/api/projects/${other.defaultProjectId}/`)).body.api_token;
    expect(((await (await fetch(`${server.url}/array/${otherToken}/config`)).json()) as any).hasFeatureFlags).toBe(false);
  });
});
