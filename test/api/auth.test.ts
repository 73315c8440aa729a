import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type Response } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, PASSWORD, uniqueEmail } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const NOT_AUTHENTICATED = {
  type: 'authentication_error',
  code: 'not_authenticated',
  detail: 'Authentication credentials were not provided.',
  attr: null,
};

/** The raw Set-Cookie line for `name` in a response. */
function setCookie(res: Response, name: string): string {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  expect(line, `Set-Cookie ${name}`).toBeDefined();
  return line!;
}

const cookieValue = (line: string) => line.slice(line.indexOf('=') + 1).split(';')[0]!;
const attributes = (line: string) =>
  line
    .split(';')
    .slice(1)
    .map((a) => a.trim().toLowerCase());

async function logIn(email: string, password: string): Promise<{ client: Client; res: Response }> {
  const client = new Client(server.url);
  const res = await client.post('/api/login/', { email, password });
  return { client, res };
}

async function signUp(baseUrl: string, body: Record<string, unknown>): Promise<{ client: Client; res: Response }> {
  const client = new Client(baseUrl);
  const res = await client.post('/api/signup/', body);
  return { client, res };
}

describe('sign-up', () => {
  it('on a closed instance makes the first user owner of a new organization with a default project, and refuses the next', async () => {
    const closed = await startServer({ openSignup: false });
    try {
      const email = uniqueEmail('first');
      const { client, res } = await signUp(closed.url, { first_name: 'Fay', email, password: PASSWORD, organization_name: 'Acme' });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({ email, first_name: 'Fay' });

      const session = setCookie(res, 'sessionid');
      expect(cookieValue(session)).not.toBe('');
      expect(attributes(session)).toContain('httponly');
      expect(attributes(session)).toContain('samesite=lax');
      expect(attributes(session)).not.toContain('secure');
      expect(attributes(setCookie(res, 'posthog_csrftoken'))).not.toContain('httponly');

      const me = await client.get('/api/users/@me/');
      expect(me.status).toBe(200);
      expect(me.body.email).toBe(email);
      expect(me.body.organization).toMatchObject({ name: 'Acme', membership_level: 15 });
      expect(me.body.team).toMatchObject({ name: 'Default project', organization: me.body.organization.id });
      const projects = await client.get(`/api/organizations/${me.body.organization.id}/projects/`);
      expect(projects.body.results.map((p: any) => p.name)).toEqual(['Default project']);

      const secondEmail = uniqueEmail('second');
      const second = await signUp(closed.url, { first_name: 'Sam', email: secondEmail, password: PASSWORD });
      expectError(second.res, 403, 'New sign-ups are closed on this instance. Ask an organization admin for an invite.', null);
      expect(second.res.headers.getSetCookie().some((c) => c.startsWith('sessionid='))).toBe(false);
      const attempt = await new Client(closed.url).post('/api/login/', { email: secondEmail, password: PASSWORD });
      expectError(attempt, 400, 'Invalid email or password.');
      const [row] = await closed.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
      expect(row!.n).toBe(1);
    } finally {
      await closed.close();
    }
  });

  it('sets the Secure flag on both cookies when configured to always', async () => {
    const secure = await startServer({ secureCookies: 'always' });
    try {
      const { res } = await signUp(secure.url, { first_name: 'Sue', email: uniqueEmail(), password: PASSWORD });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const session = setCookie(res, 'sessionid');
      expect(attributes(session)).toEqual(expect.arrayContaining(['secure', 'httponly', 'samesite=lax']));
      expect(attributes(setCookie(res, 'posthog_csrftoken'))).toContain('secure');
    } finally {
      await secure.close();
    }
  });

  it('validates its input in PostHog shape and creates nothing on failure', async () => {
    const anon = new Client(server.url);
    const missing = await anon.post('/api/signup/', { first_name: 'Ann', password: PASSWORD });
    expectError(missing, 400, 'This field is required.', 'email');
    expect(missing.body).toMatchObject({ type: 'validation_error', code: 'required' });

    expectError(
      await anon.post('/api/signup/', { first_name: 'Ann', email: 'not-an-email', password: PASSWORD }),
      400,
      'Enter a valid email address.',
      'email',
    );

    const shortEmail = uniqueEmail('short');
    const short = await anon.post('/api/signup/', { first_name: 'Ann', email: shortEmail, password: 'short' });
    expectError(short, 400, 'This password is too short. It must contain at least 8 characters.', 'password');
    expect(short.body).toMatchObject({ type: 'validation_error', code: 'password_too_short' });
    expectError((await logIn(shortEmail, 'short')).res, 400, 'Invalid email or password.');

    const email = uniqueEmail('dup');
    expect((await anon.post('/api/signup/', { first_name: 'Ann', email, password: PASSWORD })).status).toBe(201);
    const dup = await anon.post('/api/signup/', { first_name: 'Other', email: email.toUpperCase(), password: 'another password' });
    expectError(dup, 400, undefined, 'email');
    expect(dup.body).toMatchObject({ type: 'validation_error', code: 'unique' });
    // The original account is untouched: its password still works, the second one does not.
    expect((await logIn(email, PASSWORD)).res.status).toBe(200);
    expectError((await logIn(email, 'another password')).res, 400, 'Invalid email or password.');
    const [row] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE lower(email) = lower($1)', [email]);
    expect(row!.n).toBe(1);
  });
});

describe('login', () => {
  it('gives a working session for the right password', async () => {
    const org = await newOrganization(server.url);
    const { client, res } = await logIn(org.owner.user.email, PASSWORD);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(attributes(setCookie(res, 'sessionid'))).toEqual(expect.arrayContaining(['httponly', 'samesite=lax']));
    const me = await client.get('/api/users/@me/');
    expect(me.status).toBe(200);
    expect(me.body.uuid).toBe(org.owner.user.uuid);
  });

  it('answers a wrong password and an unknown email identically', async () => {
    const org = await newOrganization(server.url);
    const wrong = await logIn(org.owner.user.email, 'not the password');
    const unknown = await logIn(uniqueEmail('nobody'), PASSWORD);
    const expected = { type: 'validation_error', code: 'invalid_credentials', detail: 'Invalid email or password.', attr: null };
    expect(wrong.res.status).toBe(400);
    expect(wrong.res.body).toEqual(expected);
    expect(unknown.res.status).toBe(400);
    expect(unknown.res.body).toEqual(expected);
    for (const { client, res } of [wrong, unknown]) {
      expect(res.headers.getSetCookie().some((c) => c.startsWith('sessionid='))).toBe(false);
      expect((await client.get('/api/users/@me/')).body).toEqual(NOT_AUTHENTICATED);
    }
  });
});

describe('CSRF', () => {
  it('refuses cookie-authenticated writes without the token and changes nothing', async () => {
    const org = await newOrganization(server.url);
    const client = org.owner.client;
    expect(client.csrfToken).toBeTruthy();

    const denied = await client.request('PATCH', '/api/users/@me/', { first_name: 'Mallory' }, { csrf: false });
    expectError(denied, 403, 'CSRF Failed: CSRF token missing or incorrect.', null);
    expect(denied.body.code).toBe('permission_denied');
    const wrongToken = await client.request(
      'PATCH',
      '/api/users/@me/',
      { first_name: 'Mallory' },
      {
        csrf: false,
        headers: { 'x-csrftoken': 'x'.repeat(client.csrfToken!.length) },
      },
    );
    expectError(wrongToken, 403, 'CSRF Failed: CSRF token missing or incorrect.');
    // Reads need no token.
    const read = await client.request('GET', '/api/users/@me/', undefined, { csrf: false });
    expect(read.status).toBe(200);
    expect(read.body.first_name).toBe('Olive');

    const ok = await client.patch('/api/users/@me/', { first_name: 'Oona' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.first_name).toBe('Oona');
    expect((await client.get('/api/users/@me/')).body.first_name).toBe('Oona');
  });

  it('does not apply to personal API key writes', async () => {
    const org = await newOrganization(server.url);
    const key = await keyClient(org.owner, ['user:write']);
    expect(key.csrfToken).toBeUndefined();
    const res = await key.patch('/api/users/@me/', { first_name: 'Keyed' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await org.owner.client.get('/api/users/@me/')).body.first_name).toBe('Keyed');
  });
});

describe('logout', () => {
  it('ends the session for good, even when the old cookie is replayed', async () => {
    const org = await newOrganization(server.url);
    const { client, res } = await logIn(org.owner.user.email, PASSWORD);
    const oldCookie = `sessionid=${cookieValue(setCookie(res, 'sessionid'))}`;
    const replay = () => fetch(new URL('/api/users/@me/', server.url), { headers: { cookie: oldCookie } });

    const before = await replay();
    expect(before.status).toBe(200);
    expect(((await before.json()) as any).uuid).toBe(org.owner.user.uuid);

    const out = await client.post('/api/logout/');
    expect(out.status).toBe(204);
    const cleared = setCookie(out, 'sessionid');
    expect(cookieValue(cleared)).toBe('');

    const after = await client.get('/api/users/@me/');
    expect(after.status).toBe(401);
    expect(after.body).toEqual(NOT_AUTHENTICATED);
    const replayed = await replay();
    expect(replayed.status).toBe(401);
    expect(await replayed.json()).toEqual(NOT_AUTHENTICATED);

    // Logging out one session leaves the others alone.
    expect((await org.owner.client.get('/api/users/@me/')).status).toBe(200);
  });
});

describe('GET/PATCH /api/users/@me/', () => {
  it('returns the current user with organization, default project and organizations', async () => {
    const org = await newOrganization(server.url, 'Shape Co');
    const res = await org.owner.client.get('/api/users/@me/');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: org.owner.user.id,
      uuid: org.owner.user.uuid,
      email: org.owner.user.email,
      organization: { id: org.id, name: 'Shape Co', membership_level: 15 },
      team: { id: org.defaultProjectId, name: 'Default project', organization: org.id },
      organizations: [{ id: org.id, name: 'Shape Co', membership_level: 15 }],
    });
    expect(res.body).not.toHaveProperty('password_hash');
    // The same user by uuid; someone else's uuid is not found.
    expect((await org.owner.client.get(`/api/users/${org.owner.user.uuid}/`)).body.uuid).toBe(org.owner.user.uuid);
    const other = await newOrganization(server.url);
    expectError(await org.owner.client.get(`/api/users/${other.owner.user.uuid}/`), 404);
  });

  it('is 401 without credentials', async () => {
    const res = await new Client(server.url).get('/api/users/@me/');
    expect(res.status).toBe(401);
    expect(res.body).toEqual(NOT_AUTHENTICATED);
    const patch = await new Client(server.url).patch('/api/users/@me/', { first_name: 'X' });
    expect(patch.status).toBe(401);
    expect(patch.body).toEqual(NOT_AUTHENTICATED);
  });

  it('refuses set_current_team for a project the user cannot reach and keeps the current one', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const priv = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Secret', access_control: true });
    expect(priv.status, JSON.stringify(priv.body)).toBe(201);

    expectError(await org.owner.client.patch('/api/users/@me/', { set_current_team: other.defaultProjectId }), 403, "You don't have access to the project.");
    expectError(await member.client.patch('/api/users/@me/', { set_current_team: priv.body.id }), 403, "You don't have access to the project.");
    expectError(await member.client.patch('/api/users/@me/', { set_current_team: 999_999 }), 403);
    expect((await org.owner.client.get('/api/users/@me/')).body.team.id).toBe(org.defaultProjectId);
    expect((await member.client.get('/api/users/@me/')).body.team.id).toBe(org.defaultProjectId);

    // A project the user can reach is accepted.
    const ok = await org.owner.client.patch('/api/users/@me/', { set_current_team: priv.body.id });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.team.id).toBe(priv.body.id);
  });
});

describe('personal API key authentication', () => {
  const invalid = (where: string) => `Personal API key found in request ${where} is invalid.`;

  it('rejects a bogus key wherever it is presented, naming the place', async () => {
    const anon = new Client(server.url);
    const header = await anon.request('GET', '/api/users/@me/', undefined, { headers: { authorization: 'Bearer phx_bogus' } });
    expectError(header, 401, invalid('Authorization header'), null);
    expect(header.body).toMatchObject({ type: 'authentication_error', code: 'authentication_failed' });

    const query = await anon.get('/api/users/@me/?personal_api_key=phx_bogus');
    expectError(query, 401, invalid('query string'), null);
    expect(query.body.code).toBe('authentication_failed');

    const [before] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM organizations');
    const body = await anon.post('/api/organizations/', { name: 'Via bogus key', personal_api_key: 'phx_bogus' });
    expectError(body, 401, invalid('body'), null);
    expect(body.body.code).toBe('authentication_failed');
    const [after] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM organizations');
    expect(after!.n).toBe(before!.n);
  });

  it('accepts a real key in the header and the query string', async () => {
    const org = await newOrganization(server.url);
    const key = await keyClient(org.owner, ['user:read']);
    expect((await key.get('/api/users/@me/')).body.uuid).toBe(org.owner.user.uuid);
    const created = await org.owner.client.post('/api/personal_api_keys/', { label: 'q', scopes: ['user:read'] });
    expect(created.status).toBe(201);
    const viaQuery = await new Client(server.url).get(`/api/users/@me/?personal_api_key=${created.body.value}`);
    expect(viaQuery.status, JSON.stringify(viaQuery.body)).toBe(200);
    expect(viaQuery.body.uuid).toBe(org.owner.user.uuid);
  });
});

describe('password change', () => {
  it('needs the current password, then swaps which password logs in', async () => {
    const org = await newOrganization(server.url);
    const email = org.owner.user.email;
    const next = 'a brand new passphrase';

    const wrong = await org.owner.client.patch('/api/users/@me/', { current_password: 'not it', password: next });
    expectError(wrong, 400, 'Your current password is incorrect.', 'current_password');
    const missing = await org.owner.client.patch('/api/users/@me/', { password: next });
    expectError(missing, 400, undefined, 'current_password');
    const tooShort = await org.owner.client.patch('/api/users/@me/', { current_password: PASSWORD, password: 'short' });
    expectError(tooShort, 400, undefined, 'password');
    expect(tooShort.body.code).toBe('password_too_short');
    // Nothing changed yet.
    expect((await logIn(email, PASSWORD)).res.status).toBe(200);
    expectError((await logIn(email, next)).res, 400, 'Invalid email or password.');

    const ok = await org.owner.client.patch('/api/users/@me/', { current_password: PASSWORD, password: next });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).not.toHaveProperty('password');
    expect((await logIn(email, next)).res.status).toBe(200);
    expectError((await logIn(email, PASSWORD)).res, 400, 'Invalid email or password.');
  });

  it('ends the user’s other sessions but keeps the one that changed it', async () => {
    const org = await newOrganization(server.url);
    const other = await logIn(org.owner.user.email, PASSWORD);
    expect(other.res.status).toBe(200);
    const strangerOrg = await newOrganization(server.url);

    const ok = await org.owner.client.patch('/api/users/@me/', { current_password: PASSWORD, password: 'rotated passphrase' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await org.owner.client.get('/api/users/@me/')).status).toBe(200);
    expect((await other.client.get('/api/users/@me/')).body).toEqual(NOT_AUTHENTICATED);
    // Someone else's session is not touched.
    expect((await strangerOrg.owner.client.get('/api/users/@me/')).status).toBe(200);
  });
});
