/**
 * Secrets stay secret: a realistic session against a `warden serve` process logging at `trace`
 * (sign-up, logins right and wrong, password change, keys created, rolled, used and refused,
 * invites, a verified domain's SCIM token and SCIM calls, a garbage SAML response) and then a scan
 * of everything the server wrote — its logs, every error response, every activity-log row — for
 * any password, key value, session id, CSRF token, SCIM token or SAML assertion text.
 *
 * Also: security headers on API responses, cookie flags, CSRF on session writes, CORS closed.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type Response } from '../helpers/client.js';
import { freshInstance, serve, warden, type RunningServer } from '../helpers/cli.js';
import { startServer, storeKind, type TestServer } from '../helpers/server.js';
import { openStore } from '../../src/store/open.js';

const tag = () => randomBytes(9).toString('hex');

describe(`no secret in logs, errors or the activity log (${storeKind})`, () => {
  let instance: Awaited<ReturnType<typeof freshInstance>>;
  const processes: RunningServer[] = [];
  afterAll(async () => {
    for (const p of processes) if (p.process.exitCode === null) await p.stop('SIGKILL');
    await instance?.cleanup();
  });

  it('never writes a password, key, session id, CSRF token, SCIM token or SAML assertion anywhere', { timeout: 150_000 }, async () => {
    instance = await freshInstance();
    const env = { ...instance.env, WARDEN_LOG_LEVEL: 'trace', WARDEN_OPEN_SIGNUP: 'true', WARDEN_DNS_SERVERS: '127.0.0.1:9' };
    const start = async () => {
      const p = await serve(instance.args, env);
      processes.push(p);
      return p;
    };
    let server = await start();
    const secrets = new Map<string, string>(); // value -> what it is
    const logOnly = new Map<string, string>(); // credentials API answers show by design; logs never
    const secret = (what: string, value: string | undefined | null) => {
      if (!value) throw new Error(`no ${what}`);
      secrets.set(value, what);
      return value;
    };
    const errors: Array<{ what: string; res: Response }> = [];
    const track = (what: string, res: Response) => {
      if (res.status >= 400) errors.push({ what, res });
      return res;
    };

    // Sign-up and logins.
    const password = secret('password', `pw-${tag()}-Secret`);
    const email = `owner-${tag()}@acme-secrets.example`;
    const owner = new Client(server.url);
    const signup = track('signup', await owner.post('/api/signup/', { first_name: 'Ada', email, password, organization_name: 'Secrets' }));
    expect(signup.status, JSON.stringify(signup.body)).toBe(201);
    secret('session id', (owner as any).cookies.get('sessionid'));
    secret('csrf token', owner.csrfToken);
    const me = (await owner.get('/api/users/@me/')).body;
    const orgId: string = me.organization.id;
    const wrong = secret('wrong password', `wrong-${tag()}`);
    expect(track('wrong login', await new Client(server.url).post('/api/login/', { email, password: wrong })).status).toBe(400);
    expect(track('unknown login', await new Client(server.url).post('/api/login/', { email: `nobody-${tag()}@x.example`, password: wrong })).status).toBe(400);
    const second = new Client(server.url);
    expect(track('login', await second.post('/api/login/', { email, password })).status).toBe(200);
    secret('session id', (second as any).cookies.get('sessionid'));
    secret('csrf token', second.csrfToken);
    // A password change with the wrong current password, then the right one.
    const newPassword = secret('new password', `new-${tag()}-Secret`);
    expect(track('password change refused', await owner.patch('/api/users/@me/', { current_password: wrong, password: newPassword })).status).toBe(400);
    const changed = track('password change', await owner.patch('/api/users/@me/', { current_password: password, password: newPassword }));
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const third = new Client(server.url);
    expect(track('login with the new password', await third.post('/api/login/', { email, password: newPassword })).status).toBe(200);
    secret('session id', (third as any).cookies.get('sessionid'));
    secret('csrf token', third.csrfToken);
    const session = third;

    // Keys: created, used, rolled, refused.
    const created = track('key create', await session.post('/api/personal_api_keys/', { label: 'ci', scopes: ['*'] }));
    expect(created.status).toBe(201);
    const firstValue = secret('key value', created.body.value);
    const rolled = track('key roll', await session.post(`/api/personal_api_keys/${created.body.id}/roll/`));
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(200);
    const keyValue = secret('rolled key value', rolled.body.value);
    const key = session.withKey(keyValue);
    expect(track('key use', await key.get('/api/users/@me/')).status).toBe(200);
    expect(track('key in query', await new Client(server.url).get(`/api/users/@me/?personal_api_key=${keyValue}`)).status).toBe(200);
    expect(track('key in body', await new Client(server.url).patch('/api/users/@me/', { personal_api_key: keyValue, first_name: 'Ada' })).status).toBe(200);
    // Encodings the query parser decodes authenticate as well: the log must not show them either.
    const partly = keyValue.replace(/[_a-f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    for (const query of [
      `personal%5Fapi%5Fkey=${keyValue}`,
      `%70ersonal_api_key=${partly}`,
      `personal_api_key=${partly}`,
      `x=1&personal%5fapi%5fkey=${encodeURIComponent(keyValue)}`,
    ]) {
      expect(track(`key in query (${query.slice(0, 20)})`, await new Client(server.url).get(`/api/users/@me/?${query}`)).status, query).toBe(200);
    }
    expect(track('old key', await session.withKey(firstValue).get('/api/users/@me/')).status).toBe(401);
    const bogus = secret('bogus key', `phx_${tag()}${tag()}${tag()}`);
    expect(track('bogus key', await session.withKey(bogus).get('/api/users/@me/')).status).toBe(401);
    expect(track('bogus key in query', await new Client(server.url).get(`/api/projects/?personal_api_key=${bogus}`)).status).toBe(401);
    expect(track('bogus key in body', await new Client(server.url).patch('/api/users/@me/', { personal_api_key: bogus, first_name: 'Eve' })).status).toBe(401);
    const notPhx = secret('bogus bearer', `Zz${tag()}${tag()}`);
    track('bogus bearer', await session.withKey(notPhx).get('/api/users/@me/'));

    // Invites, and a sign-up through one.
    const domain = `acme-secrets-${tag()}.example`;
    const invite = track('invite', await key.post(`/api/organizations/${orgId}/invites/`, { target_email: `mel@${domain}`, level: 1 }));
    expect(invite.status, JSON.stringify(invite.body)).toBe(201);
    const memberPassword = secret('member password', `mpw-${tag()}-Secret`);
    const member = new Client(server.url);
    expect(track('invite sign-up', await member.post(`/api/signup/${invite.body.id}/`, { first_name: 'Mel', password: memberPassword })).status).toBe(201);
    secret('session id', (member as any).cookies.get('sessionid'));
    secret('csrf token', member.csrfToken);

    // A verified domain (the operator's command), its SCIM token, SCIM calls right and wrong.
    const added = track('domain', await key.post(`/api/organizations/${orgId}/domains/`, { domain }));
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    if (storeKind === 'pglite') await server.stop('SIGTERM'); // the embedded database is single-process
    const verified = await warden(['domains', 'verify', '--domain', domain, ...instance.args], instance.env);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    if (storeKind === 'pglite') {
      server = await start();
      // Clients follow the new port.
      for (const c of [session, key, owner, member]) Object.defineProperty(c, 'baseUrl', { value: server.url });
    }
    const scim = track('scim token', await key.post(`/api/organizations/${orgId}/domains/${added.body.id}/scim/token/`));
    expect(scim.status, JSON.stringify(scim.body)).toBe(201);
    const scimToken = secret('scim token', scim.body.scim_bearer_token);
    const scimUrl = `${server.url}/scim/v2/${added.body.id}/Users`;
    const scimGet = await fetch(scimUrl, { headers: { authorization: `Bearer ${scimToken}` } });
    expect(scimGet.status).toBe(200);
    const scimPost = await fetch(scimUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: `sam@${domain}`,
        name: { givenName: 'Sam', familyName: 'S' },
        active: true,
      }),
    });
    expect(scimPost.status, await scimPost.clone().text()).toBe(201);
    const wrongScim = secret('wrong scim token', `scim_${tag()}${tag()}`);
    const scimBad = await fetch(scimUrl, { headers: { authorization: `Bearer ${wrongScim}` } });
    expect(scimBad.status).toBe(401);
    errors.push({ what: 'scim bad token', res: { status: scimBad.status, body: await scimBad.text(), headers: scimBad.headers } });

    // A garbage SAML response: its assertion text must not be echoed or stored.
    // Credentials that also appear in API answers and activity entries by design (the invite's id,
    // the project token), but never in a log line: the invite read by id, the token in a query.
    logOnly.set(invite.body.id, 'invite id');
    expect(track('invite read', await new Client(server.url).get(`/api/signup/${invite.body.id}/`)).status).toBeLessThan(500);
    const projectToken = (await key.get(`/api/projects/${me.team.id}/`)).body.api_token as string;
    logOnly.set(projectToken, 'project token');
    const flags = await new Client(server.url).post(`/flags/?v=2&%74oken=${projectToken.replace('_', '%5F')}`, { distinct_id: 'd1' });
    expect(flags.status, JSON.stringify(flags.body)).toBe(200);
    expect(track('flags with a bad token', await new Client(server.url).post(`/flags/?v=2&api%5Fkey=phc_${tag()}`, { distinct_id: 'd1' })).status).toBe(401);

    const marker = secret('saml assertion text', `AssertionSecret${tag()}`);
    const assertion = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Subject><saml:NameID>${marker}@${domain}</saml:NameID></saml:Subject><saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>${marker}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>`;
    const samlB64 = secret('saml response (base64)', Buffer.from(assertion).toString('base64'));
    for (const accept of ['text/html', 'application/json']) {
      const res = await fetch(`${server.url}/complete/saml/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept },
        body: new URLSearchParams({ SAMLResponse: samlB64, RelayState: added.body.id }).toString(),
        redirect: 'manual',
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      errors.push({ what: `saml ${accept}`, res: { status: res.status, body: await res.text(), headers: res.headers } });
    }

    // Logout, and a request with the ended session.
    const ended = (session as any).cookies.get('sessionid');
    expect(track('logout', await session.post('/api/logout/')).status).toBeLessThan(300);
    const stale = new Client(server.url);
    track('ended session', await stale.request('GET', '/api/users/@me/', undefined, { headers: { cookie: `sessionid=${ended}` } }));

    // Stop the server (the embedded database is single-process), then read everything it wrote.
    await server.stop('SIGTERM');
    const db = await openStore(instance.env.DATABASE_URL ? { databaseUrl: instance.env.DATABASE_URL, dataDir: null } : { dataDir: instance.args[1]! });
    let rows: string[];
    try {
      rows = (await db.query<{ row: string }>('SELECT t::text AS row FROM activity_log t ORDER BY seq')).map((r) => r.row);
    } finally {
      await db.close();
    }
    expect(rows.length).toBeGreaterThan(10);
    // The scan is worth something only if the things happened and were logged.
    const joinedRows = rows.join('\n');
    for (const activity of ['login_failed', 'api_key_auth_failed', 'api_key_rolled', 'member_invited', 'scim_auth_failed'])
      expect(joinedRows).toContain(activity);
    const logs = processes.map((p) => p.output()).join('\n');
    expect(logs.length).toBeGreaterThan(1000);
    expect(logs).toMatch(/incoming request/); // request logging was on

    const leaks: string[] = [];
    const scan = (where: string, text: string) => {
      for (const [value, what] of secrets) {
        const forms = [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)];
        if (forms.some((f) => text.includes(f))) leaks.push(`${what} in ${where}`);
      }
    };
    // The scanner itself finds what it looks for.
    scan('a control', `x ${keyValue} y`);
    expect(leaks).toEqual(['rolled key value in a control']);
    leaks.length = 0;
    scan('the logs', logs);
    // Percent-decoded as leniently as any parser would: a secret in any encoding shows up here.
    const decoded = logs.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    scan('the decoded logs', decoded);
    for (const [value, what] of logOnly) if (logs.includes(value) || decoded.includes(value)) leaks.push(`${what} in the logs`);
    for (const row of rows) scan(`activity_log row ${row.slice(0, 80)}`, row);
    for (const { what, res } of errors) {
      const headers = [...res.headers]
        .filter(([k]) => k !== 'set-cookie')
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n');
      scan(`the error response to ${what}`, `${typeof res.body === 'string' ? res.body : JSON.stringify(res.body)}\n${headers}`);
    }
    expect(leaks).toEqual([]);
    expect(errors.length).toBeGreaterThan(8);
    console.log(
      `secrets (${storeKind}): ${secrets.size} secrets, ${logs.length} bytes of trace logs, ${errors.length} error responses, ${rows.length} activity rows scanned`,
    );
  });
});

describe('security headers, cookies, CSRF and CORS', () => {
  let server: TestServer;
  let secure: TestServer;
  beforeAll(async () => {
    server = await startServer();
    secure = await startServer({ secureCookies: 'always' });
  });
  afterAll(async () => {
    await server?.close();
    await secure?.close();
  });

  const signup = async (s: TestServer) => {
    const c = new Client(s.url);
    const res = await c.post('/api/signup/', { first_name: 'H', email: `h-${tag()}@example.com`, password: 'a long password here', organization_name: 'H' });
    expect(res.status).toBe(201);
    return { c, res };
  };

  it('sends nosniff and a locked-down policy on API answers, errors included', async () => {
    const { c } = await signup(server);
    for (const [what, res] of [
      ['me', await c.get('/api/users/@me/')],
      ['404', await c.get('/api/nope/')],
      ['401', await new Client(server.url).get('/api/projects/')],
      ['400', await c.post('/api/organizations/', { name: 5 })],
      ['health', await c.get('/_health')],
    ] as const) {
      expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), what).toBe('DENY');
      expect(res.headers.get('content-security-policy'), what).toContain("frame-ancestors 'none'");
      expect(res.headers.get('referrer-policy'), what).toBe('no-referrer');
      if (what !== 'health') expect(res.headers.get('cache-control'), what).toBe('no-store');
    }
    // The console keeps its own policy (it loads its scripts).
    const page = await fetch(`${server.url}/`);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('content-security-policy') ?? '').not.toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('sets the session cookie HttpOnly and SameSite=Lax, Secure only when asked or over https', async () => {
    const plain = (await signup(server)).res.headers.getSetCookie();
    const session = plain.find((c) => c.startsWith('sessionid='))!;
    expect(session).toMatch(/;\s*HttpOnly/i);
    expect(session).toMatch(/;\s*SameSite=Lax/i);
    expect(session).not.toMatch(/;\s*Secure/i);
    const csrf = plain.find((c) => c.startsWith('posthog_csrftoken='))!;
    expect(csrf).not.toMatch(/HttpOnly/i);
    expect(csrf).toMatch(/SameSite=Lax/i);
    const always = (await signup(secure)).res.headers.getSetCookie();
    for (const cookie of always.filter((c) => /^(sessionid|posthog_csrftoken)=/.test(c))) expect(cookie).toMatch(/;\s*Secure/i);
  });

  it('refuses session writes without the CSRF token, or with a wrong one', async () => {
    const { c } = await signup(server);
    const url = '/api/users/@me/';
    for (const options of [{ csrf: false }, { csrf: false, headers: { 'x-csrftoken': 'wrong' } }, { csrf: false, headers: { 'x-csrftoken': '' } }]) {
      const res = await c.request('PATCH', url, { first_name: 'Eve' }, options);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'permission_denied', detail: 'CSRF Failed: CSRF token missing or incorrect.' });
    }
    expect((await c.get(url)).body.first_name).toBe('H');
    expect((await c.patch(url, { first_name: 'Ok' })).status).toBe(200);
  });

  it('answers cross-origin requests to the API without Access-Control-Allow-Origin, and the SDK routes to any origin without credentials', async () => {
    const { c } = await signup(server);
    const cookie = `sessionid=${(c as any).cookies.get('sessionid')}`;
    const ask = (path: string) =>
      fetch(`${server.url}${path}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-csrftoken' },
      });
    for (const path of ['/api/users/@me/', '/api/projects/', '/api/login/', '/_health']) {
      const preflight = await ask(path);
      expect(preflight.status, path).toBeLessThan(500);
      expect(preflight.headers.get('access-control-allow-origin'), path).toBeNull();
      expect(preflight.headers.get('access-control-allow-credentials'), path).toBeNull();
      const get = await fetch(`${server.url}${path}`, { headers: { origin: 'https://evil.example', cookie } });
      expect(get.headers.get('access-control-allow-origin'), path).toBeNull();
      expect(get.headers.get('access-control-allow-credentials'), path).toBeNull();
    }
    // posthog-js runs on any site (PostHog's CORS): any origin, never credentials, so no cookie's
    // answer is ever readable there; these routes take the project token, not the session.
    for (const path of ['/flags/', '/e/']) {
      const preflight = await ask(path);
      expect(preflight.status, path).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin'), path).toBe('*');
      expect(preflight.headers.get('access-control-allow-credentials'), path).toBeNull();
      const post = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { origin: 'https://evil.example', cookie, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(post.headers.get('access-control-allow-origin'), path).toBe('*');
      expect(post.headers.get('access-control-allow-credentials'), path).toBeNull();
    }
  });
});
