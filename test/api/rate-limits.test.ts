/**
 * Rate limits: 429 with Retry-After in PostHog's shape on login (per address and per account at an
 * address), sign-up, invite acceptance, failed key and SCIM authentications; counted in the
 * database so two nodes share them; an attacker elsewhere never locks a real admin out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { LIMITS } from '../../src/domain/identity/rate-limits.js';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { newOrganization, PASSWORD, uniqueEmail } from '../helpers/world.js';

let server: TestServer;
/** A second node on the same database: its own process memory, the database's counters. */
let nodeB: { url: string; close(): Promise<void> };

beforeAll(async () => {
  server = await startServer({ rateLimits: true, trustProxy: true });
  const { app } = await buildApp(server.db, { ...server.config });
  nodeB = { url: await app.listen({ host: '127.0.0.1', port: 0 }), close: () => app.close() };
});
afterAll(async () => {
  await nodeB?.close();
  await server?.close();
});

/** A client whose requests come from `address` (the server trusts X-Forwarded-For in this file). */
const from = (address: string, url = server.url) => {
  const client = new Client(url);
  const request = client.request.bind(client);
  client.request = (method, path, body, options = {}) =>
    request(method, path, body, { ...options, headers: { ...options.headers, 'x-forwarded-for': address } });
  return client;
};

function expectThrottled(res: { status: number; body: any; headers: Headers }, maxSeconds: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(429);
  expect(res.body).toEqual({
    type: 'throttled_error',
    code: 'throttled',
    detail: expect.stringMatching(/^Request was throttled\. Expected available in \d+ seconds\.$/),
    attr: null,
  });
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
}

describe('login', () => {
  it('throttles guesses at an account from one address, across nodes, without locking its owner out elsewhere', async () => {
    const org = await newOrganization(server.url);
    const email = org.owner.user.email;
    const max = LIMITS.loginFailuresPerAccount.max;
    // Failures on node A and node B count together.
    for (let i = 0; i < max; i++) {
      const url = i % 2 === 0 ? server.url : nodeB.url;
      expect((await from('10.1.0.66', url).post('/api/login/', { email, password: 'wrong' })).status).toBe(400);
    }
    // Even the right password is refused from that address now, on either node.
    expectThrottled(await from('10.1.0.66').post('/api/login/', { email, password: PASSWORD }), LIMITS.loginFailuresPerAccount.windowSeconds);
    expectThrottled(await from('10.1.0.66', nodeB.url).post('/api/login/', { email, password: PASSWORD }), LIMITS.loginFailuresPerAccount.windowSeconds);
    // The owner, from their own address, logs in.
    expect((await from('10.1.0.7').post('/api/login/', { email, password: PASSWORD })).status).toBe(200);
    // Other accounts from the attacker's address are not affected by this account's counter.
    const other = await newOrganization(server.url);
    expect((await from('10.1.0.66').post('/api/login/', { email: other.owner.user.email, password: PASSWORD })).status).toBe(200);
  });

  it('throttles an address that fails across many accounts', async () => {
    const max = LIMITS.loginFailuresPerAddress.max;
    for (let i = 0; i < max; i++) {
      expect((await from('10.2.0.9').post('/api/login/', { email: uniqueEmail('nobody'), password: 'x' })).status).toBe(400);
    }
    expectThrottled(await from('10.2.0.9').post('/api/login/', { email: uniqueEmail('nobody'), password: 'x' }), LIMITS.loginFailuresPerAddress.windowSeconds);
    expect((await from('10.2.0.10').post('/api/login/', { email: uniqueEmail('nobody'), password: 'x' })).status).toBe(400);
  });
});

describe('sign-up and invite acceptance', () => {
  it('limits sign-ups per address', async () => {
    const max = LIMITS.signupsPerAddress.max;
    // Attempts count whether or not they succeed: invalid bodies are cheap to send.
    for (let i = 0; i < max; i++) {
      expect((await from('10.3.0.1').post('/api/signup/', { email: 'not-an-email', password: PASSWORD, first_name: 'S' })).status).toBe(400);
    }
    expectThrottled(await from('10.3.0.1').post('/api/signup/', { email: uniqueEmail(), password: PASSWORD, first_name: 'S' }), 3600);
    expect((await from('10.3.0.2').post('/api/signup/', { email: uniqueEmail(), password: PASSWORD, first_name: 'S' })).status).toBe(201);
  });

  it('limits invite acceptances per address', async () => {
    const missing = '/api/signup/00000000-0000-4000-8000-000000000000/';
    for (let i = 0; i < LIMITS.inviteAcceptancesPerAddress.max; i++) {
      expect((await from('10.4.0.1').post(missing, { first_name: 'I', password: PASSWORD })).status).not.toBe(429);
    }
    expectThrottled(await from('10.4.0.1').post(missing, { first_name: 'I', password: PASSWORD }), 3600);
  });
});

describe('personal API keys', () => {
  it('blocks an address after repeated failed key authentications, even with a valid key; other addresses go on', async () => {
    const org = await newOrganization(server.url);
    const created = await org.owner.client.post('/api/personal_api_keys/', { label: 'limits', scopes: ['*'] });
    const value = created.body.value as string;
    const bad = `phx_${'0'.repeat(48)}`;
    const me = (key: string, address: string, url = server.url) =>
      new Client(url).withKey(key).request('GET', '/api/users/@me/', undefined, { headers: { 'x-forwarded-for': address } });
    for (let i = 0; i < LIMITS.keyFailuresPerAddress.max; i++) expect((await me(bad, '10.5.0.1')).status).toBe(401);
    expectThrottled(await me(value, '10.5.0.1'), LIMITS.keyFailuresPerAddress.windowSeconds);
    expect((await me(value, '10.5.0.2')).status).toBe(200);
    // Node B learns of the address at its first failure there (the count is in the database): a
    // failure beyond the limit is answered 429.
    expectThrottled(await me(bad, '10.5.0.1', nodeB.url), LIMITS.keyFailuresPerAddress.windowSeconds);
    expectThrottled(await me(value, '10.5.0.1', nodeB.url), LIMITS.keyFailuresPerAddress.windowSeconds);
  });
});

describe('SCIM', () => {
  it("blocks an address after repeated bad SCIM tokens, in SCIM's error shape", async () => {
    const path = '/scim/v2/00000000-0000-4000-8000-000000000000/Users';
    for (let i = 0; i < LIMITS.scimFailuresPerAddress.max; i++) {
      const res = await fetch(new URL(path, server.url), { headers: { authorization: 'Bearer scim_nope', 'x-forwarded-for': '10.6.0.1' } });
      expect(res.status).toBe(401);
    }
    const res = await fetch(new URL(path, server.url), { headers: { authorization: 'Bearer scim_nope', 'x-forwarded-for': '10.6.0.1' } });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = await res.json();
    expect(body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' });
  });
});

describe('under concurrency (attempts counted atomically, before they are judged)', () => {
  /** Windows are fixed (epoch multiples): a burst that straddles a boundary may use two of them. */
  const allowed = async <T>(limit: { max: number; windowSeconds: number }, burst: () => Promise<T>) => {
    const window = () => Math.floor(Date.now() / 1000 / limit.windowSeconds);
    const first = window();
    const result = await burst();
    return { result, max: limit.max * (window() - first + 1) };
  };
  const statuses = (list: Array<{ status: number }>) => {
    const counts: Record<number, number> = {};
    for (const { status } of list) counts[status] = (counts[status] ?? 0) + 1;
    return counts;
  };

  it('40 wrong passwords and a right one in one burst, over two nodes: at most 5 are judged, the rest 429', async () => {
    const org = await newOrganization(server.url);
    const email = org.owner.user.email;
    const burst = Array.from({ length: 40 }, (_, i) => from('10.7.0.1', i % 2 ? nodeB.url : server.url).post('/api/login/', { email, password: `wrong-${i}` }));
    burst.push(from('10.7.0.1').post('/api/login/', { email, password: PASSWORD }));
    const { result: answers, max } = await allowed(LIMITS.loginFailuresPerAccount, () => Promise.all(burst));
    const counts = statuses(answers);
    const judged = (counts[400] ?? 0) + (counts[200] ?? 0);
    expect(judged, JSON.stringify(counts)).toBeLessThanOrEqual(max);
    expect(counts[429], JSON.stringify(counts)).toBe(answers.length - judged);
    // A successful login hands its attempt back: the owner elsewhere is untouched, and so is a
    // fresh address that logs in right.
    expect((await from('10.7.0.2').post('/api/login/', { email, password: PASSWORD })).status).toBe(200);
  });

  it('40 bad keys and 40 bad SCIM tokens in bursts: at most the limit is answered 401, the rest 429', async () => {
    const bad = `phx_${'1'.repeat(48)}`;
    const { result: keys, max: keyMax } = await allowed(LIMITS.keyFailuresPerAddress, () =>
      Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          new Client(i % 2 ? nodeB.url : server.url).withKey(bad).request('GET', '/api/users/@me/', undefined, { headers: { 'x-forwarded-for': '10.8.0.1' } }),
        ),
      ),
    );
    const keyCounts = statuses(keys);
    expect(keyCounts[401] ?? 0, JSON.stringify(keyCounts)).toBeLessThanOrEqual(keyMax);
    expect((keyCounts[401] ?? 0) + (keyCounts[429] ?? 0), JSON.stringify(keyCounts)).toBe(40);

    const path = '/scim/v2/00000000-0000-4000-8000-000000000000/Users';
    const { result: scim, max: scimMax } = await allowed(LIMITS.scimFailuresPerAddress, () =>
      Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          fetch(new URL(path, i % 2 ? nodeB.url : server.url), { headers: { authorization: 'Bearer scim_nope', 'x-forwarded-for': '10.8.0.2' } }).then(
            async (r) => {
              await r.arrayBuffer();
              return { status: r.status };
            },
          ),
        ),
      ),
    );
    const scimCounts = statuses(scim);
    expect(scimCounts[401] ?? 0, JSON.stringify(scimCounts)).toBeLessThanOrEqual(scimMax);
    expect((scimCounts[401] ?? 0) + (scimCounts[429] ?? 0), JSON.stringify(scimCounts)).toBe(40);
  });
});
