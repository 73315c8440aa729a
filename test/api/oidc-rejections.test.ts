/**
 * OIDC logins that must fail, against the real provider: each gives an error page (or PostHog's
 * JSON error to API clients), a `sso_login_failed` security event without codes or tokens, and no
 * session.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from '../helpers/browser.js';
import { Client } from '../helpers/client.js';
import { account, failures, isCallback, me, signIn, toCallback } from '../helpers/oidc-flow.js';
import { startOidcWorld, type OidcWorld } from '../helpers/oidc-provider.js';
import { startServer } from '../helpers/server.js';
import { expectError, newOrganization } from '../helpers/world.js';

let world: OidcWorld;
beforeAll(async () => {
  world = await startOidcWorld();
});
afterAll(() => world?.close());

const browser = () => new Browser(world.tls.cert);
const byDomain = () => `/login/oidc/?domain_id=${world.domain.id}`;
/** Every code and state the tests saw: none may reach the activity log. */
const secrets: string[] = [];
const remember = (url: URL) => {
  for (const name of ['code', 'state']) if (url.searchParams.get(name)) secrets.push(url.searchParams.get(name)!);
  return url;
};

async function usersWithEmail(email: string): Promise<number> {
  const [row] = await world.server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE lower(email) = lower($1)', [email]);
  return row!.n;
}

/** The page is a refusal: status, an HTML page, no session cookie, and the browser is not signed in. */
async function expectRefused(b: Browser, page: Page, status: number, reason: string, domain: string | null = world.domain.name) {
  expect(page.status, page.body).toBe(status);
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/);
  expect(page.body).toContain('<h1>Sign-in failed</h1>');
  const cookies = ([] as string[]).concat(page.headers['set-cookie'] ?? []);
  expect(cookies.filter((c) => c.startsWith('sessionid='))).toEqual([]);
  expect(b.cookie(world.server.url, 'sessionid')).toBeUndefined();
  expect((await me(world, b)).status).toBe(401);
  const [event] = await failures(world);
  expect(event?.context).toMatchObject({ reason, provider: 'oidc', domain });
  expect(event?.organization_id).toBe(domain ? world.org.id : null);
  return event!;
}

describe('OIDC callback rejections', () => {
  it('rejects an unknown state, and a replayed callback after a successful login', async () => {
    const b = browser();
    const unknown = await b.get(new URL(`/complete/oidc/?code=abc&state=${randomBytes(32).toString('base64url')}`, world.server.url));
    await expectRefused(b, unknown, 400, 'unknown_state', null);
    expect(unknown.body).toContain('unknown or was already used');

    account(world, 'replay');
    const ok = browser();
    const callback = remember(await toCallback(world, ok, byDomain(), 'replay'));
    expect((await ok.get(callback)).status).toBe(302);
    const sessions = async () => (await world.server.db.query('SELECT 1 FROM sessions')).length;
    const before = await sessions();
    // The same browser, and an attacker's, replaying the very same response.
    for (const replayer of [ok, browser()]) {
      const again = await replayer.get(callback);
      expect(again.status).toBe(400);
      expect((await failures(world))[0]?.context.reason).toBe('unknown_state');
    }
    expect(await sessions()).toBe(before);
  });

  it('rejects a callback without state, and answers API clients in PostHog shape', async () => {
    const b = browser();
    await expectRefused(b, await b.get(new URL('/complete/oidc/?code=abc', world.server.url)), 400, 'missing_state', null);
    const api = new Client(world.server.url);
    const res = await api.get(`/complete/oidc/?code=abc&state=${randomBytes(8).toString('hex')}`);
    expectError(res, 400, /unknown or was already used/, null);
    expect(res.body).toMatchObject({ type: 'invalid_request', code: 'unknown_state' });
  });

  it('rejects a callback delivered to another browser than the one that started the login (login CSRF)', async () => {
    account(world, 'csrf-victim');
    const attacker = browser();
    const callback = remember(await toCallback(world, attacker, byDomain(), 'csrf-victim'));
    const victim = browser();
    await expectRefused(victim, await victim.get(callback), 400, 'state_mismatch');
    // A HEAD (a link scanner) does not reach the callback at all.
    expect((await victim.request('HEAD', callback)).status).toBeGreaterThanOrEqual(400);
    // Neither spent the state: the browser that started the login still completes it, once.
    expect((await attacker.get(callback)).status).toBe(302);
    expect((await me(world, attacker)).status).toBe(200);
    expect((await victim.get(callback)).status).toBe(400);
    expect((await failures(world))[0]?.context.reason).toBe('unknown_state');
  });

  it('rejects an expired state', async () => {
    account(world, 'slow');
    const b = browser();
    const callback = remember(await toCallback(world, b, byDomain(), 'slow'));
    await world.server.db.query("UPDATE sso_requests SET expires_at = now() - interval '1 second' WHERE provider = 'oidc' AND domain_id = $1", [
      world.domain.id,
    ]);
    await expectRefused(b, await b.get(callback), 400, 'expired_state');
  });

  it('rejects a tampered code, and a code from another login (PKCE)', async () => {
    account(world, 'tamper');
    const b = browser();
    const callback = remember(await toCallback(world, b, byDomain(), 'tamper'));
    const tampered = new URL(callback);
    tampered.searchParams.set('code', `${callback.searchParams.get('code')!.slice(0, -2)}xy`);
    const event = await expectRefused(b, await b.get(tampered), 400, 'token_validation_failed');
    expect(event.context.error).toMatch(/invalid_grant/);
    // The genuine response is worthless now: its state was consumed by the tampered one.
    expect((await b.get(callback)).status).toBe(400);
    expect((await failures(world))[0]?.context.reason).toBe('unknown_state');

    // Code injection: a code issued to one login, presented with another login's state.
    const x = browser();
    const y = browser();
    const stolen = remember(await toCallback(world, x, byDomain(), 'tamper'));
    const own = remember(await toCallback(world, y, byDomain(), 'tamper'));
    const injected = new URL(own);
    injected.searchParams.set('code', stolen.searchParams.get('code')!);
    const injectedEvent = await expectRefused(y, await y.get(injected), 400, 'token_validation_failed');
    expect(injectedEvent.context.error).toMatch(/invalid_grant/);
  });

  it('rejects an ID token whose nonce belongs to another login', async () => {
    account(world, 'nonce');
    world.idp.plan = { login: 'nonce' };
    const b = browser();
    const first = (await b.get(new URL(byDomain(), world.server.url))).location!;
    const second = (await b.get(new URL(byDomain(), world.server.url))).location!;
    // The second login's state and PKCE challenge, the first login's nonce: only the nonce is wrong.
    const forged = new URL(first);
    for (const name of ['state', 'code_challenge']) forged.searchParams.set(name, second.searchParams.get(name)!);
    const { next } = await b.follow(forged, isCallback);
    expect(next).not.toBeNull();
    remember(next!);
    const event = await expectRefused(b, await b.get(next!), 400, 'token_validation_failed');
    expect(event.context.error).toMatch(/nonce/);
  });

  it('refuses an email outside the domain, and an unverified email, creating no user', async () => {
    const outsider = account(world, 'outsider', { email: `mallory-${randomBytes(3).toString('hex')}@elsewhere.example` });
    const b = browser();
    const page = await signIn(world, b, 'outsider', byDomain());
    await expectRefused(b, page, 403, 'email_domain_mismatch');
    expect(page.body).toContain(`not in the domain ${world.domain.name}`);
    expect(await usersWithEmail(outsider.email)).toBe(0);

    const unverified = account(world, 'unverified', { email_verified: false });
    const c = browser();
    const refused = await signIn(world, c, 'unverified');
    await expectRefused(c, refused, 403, 'email_not_verified');
    expect(await usersWithEmail(unverified.email)).toBe(0);
  });

  it('refuses a new user when JIT provisioning is off', async () => {
    await world.server.db.query('UPDATE organization_domains SET jit_provisioning_enabled = false WHERE id = $1', [world.domain.id]);
    try {
      const a = account(world, 'no-jit');
      const b = browser();
      await expectRefused(b, await signIn(world, b, 'no-jit'), 403, 'jit_not_enabled');
      expect(await usersWithEmail(a.email)).toBe(0);
    } finally {
      await world.server.db.query('UPDATE organization_domains SET jit_provisioning_enabled = true WHERE id = $1', [world.domain.id]);
    }
  });

  it("renders the provider's error as an escaped error page", async () => {
    account(world, 'denied');
    world.idp.plan = { error: 'access_denied', error_description: '<script>alert("owned")</script> said no' };
    const b = browser();
    const start = await b.get(new URL(byDomain(), world.server.url));
    const { next } = await b.follow(start.location!, isCallback);
    expect(next!.searchParams.get('error')).toBe('access_denied');
    expect(next!.searchParams.get('code')).toBeNull();
    const page = await b.get(next!);
    const event = await expectRefused(b, page, 400, 'provider_error');
    expect(page.body).not.toContain('<script>');
    expect(page.body).toContain('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; said no');
    expect(event.context.error).toMatch(/^access_denied/);
  });

  it('keeps codes and states out of the security events', async () => {
    expect(secrets.length).toBeGreaterThan(8);
    const rows = await world.server.db.query<{ detail: unknown }>("SELECT detail FROM activity_log WHERE scope = 'Security'");
    const text = JSON.stringify(rows);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain(world.idp.clientSecret);
  });
});

describe('OIDC login start', () => {
  it('answers 400 in PostHog shape when no verified OIDC domain matches, and stores nothing', async () => {
    const api = new Client(world.server.url);
    const unverified = `unverified-${randomBytes(3).toString('hex')}.example`;
    const noOidc = `no-oidc-${randomBytes(3).toString('hex')}.example`;
    const [plain] = await world.server.db.query<{ id: string }>(
      `INSERT INTO organization_domains (organization_id, domain, verification_challenge, verified_at, oidc_issuer, oidc_client_id)
       VALUES ($1, $2, 'c1', NULL, $3, 'x'), ($1, $4, 'c2', now(), NULL, NULL) RETURNING id`,
      [world.org.id, unverified, world.idp.issuer, noOidc],
    );
    const count = async () => (await world.server.db.query("SELECT 1 FROM sso_requests WHERE provider = 'oidc'")).length;
    const before = await count();
    for (const query of ['email=someone@nowhere.example', `email=someone@${unverified}`, `email=someone@${noOidc}`, 'email=no-at-sign']) {
      const res = await api.get(`/login/oidc/?${query}`);
      expectError(res, 400, 'Single sign-on with OIDC is not configured for this domain.', 'email');
      expect(res.body).toMatchObject({ type: 'validation_error', code: 'oidc_not_configured' });
    }
    for (const id of [plain!.id, 'not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      expectError(await api.get(`/login/oidc/?domain_id=${id}`), 400, 'Single sign-on with OIDC is not configured for this domain.', 'domain_id');
    }
    expectError(await api.get('/login/oidc/'), 400, 'This field is required.', 'email');
    expect(await count()).toBe(before);
  });

  it('answers 502 when the provider cannot be reached or its certificate is not trusted', async () => {
    const api = new Client(world.server.url);
    const dead = `dead-${randomBytes(3).toString('hex')}.example`;
    await world.server.db.query(
      `INSERT INTO organization_domains (organization_id, domain, verification_challenge, verified_at, oidc_issuer, oidc_client_id)
       VALUES ($1, $2, 'c3', now(), 'https://127.0.0.1:1', 'x')`,
      [world.org.id, dead],
    );
    const res = await api.get(`/login/oidc/?email=a@${dead}`);
    expectError(res, 502);
    expect(res.body).toMatchObject({ type: 'server_error', code: 'provider_unreachable' });

    // A Warden that was not told to trust the provider's CA refuses to talk to it.
    const untrusting = await startServer();
    try {
      const org = await newOrganization(untrusting.url);
      const name = `untrusted-${randomBytes(3).toString('hex')}.example`;
      await untrusting.db.query(
        `INSERT INTO organization_domains (organization_id, domain, verification_challenge, verified_at, oidc_issuer, oidc_client_id, oidc_client_secret)
         VALUES ($1, $2, 'c4', now(), $3, $4, $5)`,
        [org.id, name, world.idp.issuer, world.idp.clientId, world.idp.clientSecret],
      );
      const refused = await new Client(untrusting.url).get(`/login/oidc/?email=a@${name}`);
      expectError(refused, 502);
      expect(refused.body.code).toBe('provider_unreachable');
    } finally {
      await untrusting.close();
    }
  });
});
