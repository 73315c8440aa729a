/**
 * OIDC single sign-on against a real provider (panva's oidc-provider over HTTPS on loopback):
 * JIT provisioning, linking by (domain, oidc, sub), group mapping, the authorization request itself.
 * Rejections are in oidc-rejections.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../helpers/browser.js';
import { Client } from '../helpers/client.js';
import { account, me, signIn, toCallback } from '../helpers/oidc-flow.js';
import { startOidcWorld, type OidcWorld } from '../helpers/oidc-provider.js';
import { PASSWORD } from '../helpers/world.js';

let world: OidcWorld;
beforeAll(async () => {
  world = await startOidcWorld();
});
afterAll(() => world?.close());

const browser = () => new Browser(world.tls.cert);

async function membership(userId: number): Promise<{ id: string; level: number } | undefined> {
  const [row] = await world.server.db.query<{ id: string; level: number }>(
    'SELECT id, level FROM organization_memberships WHERE organization_id = $1 AND user_id = $2',
    [world.org.id, userId],
  );
  return row;
}

async function identity(sub: string): Promise<{ user_id: number } | undefined> {
  const [row] = await world.server.db.query<{ user_id: number }>(
    "SELECT user_id FROM sso_identities WHERE domain_id = $1 AND provider = 'oidc' AND subject = $2",
    [world.domain.id, sub],
  );
  return row;
}

describe('OIDC login', () => {
  it('sends an authorization-code request with PKCE S256, state, nonce and the email as login hint', async () => {
    const a = account(world, 'hint-1');
    const b = browser();
    const start = await b.get(new URL(`/login/oidc/?email=${encodeURIComponent(a.email)}`, world.server.url));
    expect(start.status, start.body).toBe(302);
    const auth = start.location!;
    expect(`${auth.origin}${auth.pathname}`).toBe(`${world.idp.issuer}/auth`);
    const p = auth.searchParams;
    expect(p.get('response_type')).toBe('code');
    expect(p.get('client_id')).toBe(world.idp.clientId);
    expect(p.get('redirect_uri')).toBe(`${world.server.url}/complete/oidc/`);
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.get('state')!.length).toBeGreaterThanOrEqual(32);
    expect(p.get('nonce')!.length).toBeGreaterThanOrEqual(32);
    expect(p.get('scope')!.split(' ').sort()).toEqual(['email', 'groups', 'openid', 'profile']);
    expect(p.get('login_hint')).toBe(a.email);
    // The state is bound to this browser, for the callback path only.
    const setCookie = ([] as string[]).concat(start.headers['set-cookie'] ?? []).find((c) => c.startsWith('warden_oidc_state='));
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Path=\/complete\/oidc/);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    // What is kept server-side: the verifier, the nonce and where to land; not the state itself.
    const rows = await world.server.db.query<{ id: string; data: Record<string, unknown> }>(
      "SELECT id, data FROM sso_requests WHERE provider = 'oidc' AND domain_id = $1",
      [world.domain.id],
    );
    const row = rows.find((r) => r.data.nonce === p.get('nonce'));
    expect(row).toBeDefined();
    expect(Object.keys(row!.data).sort()).toEqual(['code_verifier', 'nonce', 'redirect']);
    expect(row!.id).not.toContain(p.get('state')!);
  });

  it('provisions a new user at Member on the first login and opens a session', async () => {
    const a = account(world, 'jit-1', { given_name: 'Jill', family_name: 'Tee' });
    const b = browser();
    const done = await signIn(world, b, 'jit-1');
    expect(done.status, done.body).toBe(302);
    expect(done.location!.href).toBe(`${world.server.url}/`);
    expect(done.headers['cache-control']).toBe('no-store');
    const res = await me(world, b);
    expect(res.status, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      email: a.email,
      first_name: 'Jill',
      last_name: 'Tee',
      organization: { id: world.org.id, membership_level: 1 },
    });
    const user = res.json();
    expect((await identity('jit-1'))?.user_id).toBe(user.id);
    expect((await membership(user.id))?.level).toBe(1);
    const [session] = await world.server.db.query<{ auth_method: string }>('SELECT auth_method FROM sessions WHERE user_id = $1', [user.id]);
    expect(session?.auth_method).toBe('oidc');
    // The state cookie is spent.
    expect(b.cookie(world.server.url, 'warden_oidc_state')).toBeUndefined();
    // The CSRF cookie works for writes, as after a password login.
    const csrf = b.cookie(world.server.url, 'posthog_csrftoken');
    expect(csrf).toBeTruthy();
  });

  it('starts from a domain id as well, and lands on a local `next` path only', async () => {
    account(world, 'next-1');
    const b = browser();
    const landed = await signIn(world, b, 'next-1', `/login/oidc/?domain_id=${world.domain.id}&next=${encodeURIComponent('/project/1/insights?x=1')}`);
    expect(landed.status, landed.body).toBe(302);
    expect(landed.location!.href).toBe(`${world.server.url}/project/1/insights?x=1`);
    const unicode = await signIn(world, browser(), 'next-1', `/login/oidc/?domain_id=${world.domain.id}&next=${encodeURIComponent('/💥?q=ü')}`);
    expect(unicode.status, unicode.body).toBe(302);
    expect(unicode.location!.href).toBe(`${world.server.url}/%F0%9F%92%A5?q=%C3%BC`);
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/\\/evil.example', '/\t/evil.example', 'javascript:alert(1)']) {
      const again = await signIn(world, browser(), 'next-1', `/login/oidc/?domain_id=${world.domain.id}&next=${encodeURIComponent(next)}`);
      expect(again.status, next).toBe(302);
      expect(again.location!.href, next).toBe(`${world.server.url}/`);
    }
  });

  it('links an existing member by (domain, oidc, sub) and keeps recognising them when their email changes', async () => {
    const email = `bob@${world.domain.name}`;
    const invite = await world.org.owner.client.post(`/api/organizations/${world.org.id}/invites/`, { target_email: email, level: 8 });
    expect(invite.status, JSON.stringify(invite.body)).toBe(201);
    const pw = new Client(world.server.url);
    const created = await pw.post(`/api/signup/${invite.body.id}/`, { first_name: 'Bob', password: PASSWORD });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const bobId: number = created.body.id;

    account(world, 'bob-sub', { email, given_name: 'Robert' });
    const b = browser();
    expect((await signIn(world, b, 'bob-sub')).status).toBe(302);
    expect((await me(world, b)).json()).toMatchObject({ id: bobId, email, first_name: 'Bob' });
    expect((await identity('bob-sub'))?.user_id).toBe(bobId);
    // Linking keeps the level the person had.
    expect((await membership(bobId))?.level).toBe(8);

    // The provider now reports another address for the same subject: still Bob.
    account(world, 'bob-sub', { email: `robert@${world.domain.name}` });
    const again = browser();
    expect((await signIn(world, again, 'bob-sub', `/login/oidc/?domain_id=${world.domain.id}`)).status).toBe(302);
    expect((await me(world, again)).json()).toMatchObject({ id: bobId, email });
    const [users] = await world.server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE email = $1', [`robert@${world.domain.name}`]);
    expect(users?.n).toBe(0);
    const linked = await world.server.db.query("SELECT 1 FROM activity_log WHERE activity = 'sso_identity_linked' AND item_id = $1", [String(bobId)]);
    expect(linked.length).toBe(1);
  });

  it('maps groups to a level and a role at every login, demotions included', async () => {
    const role = await world.org.owner.client.post(`/api/organizations/${world.org.id}/roles/`, { name: 'Engineers' });
    expect(role.status, JSON.stringify(role.body)).toBe(201);
    await world.server.db.query(
      'INSERT INTO sso_group_mappings (domain_id, group_name, level, role_id, created_by_level) VALUES ($1, $2, 8, NULL, 15), ($1, $3, NULL, $4, 15)',
      [world.domain.id, 'warden-admins', 'engineering', role.body.id],
    );
    const roleMembers = async (membershipId: string) =>
      (await world.server.db.query('SELECT 1 FROM role_memberships WHERE role_id = $1 AND organization_member_id = $2', [role.body.id, membershipId])).length;

    account(world, 'grace', { groups: ['warden-admins', 'engineering', 'unrelated'] });
    const b = browser();
    expect((await signIn(world, b, 'grace')).status).toBe(302);
    const user = (await me(world, b)).json();
    expect(user.organization.membership_level).toBe(8);
    const m = (await membership(user.id))!;
    expect(m.level).toBe(8);
    expect(await roleMembers(m.id)).toBe(1);
    // As an admin now, she can do what admins do.
    const members = await b.get(new URL(`/api/organizations/${world.org.id}/invites/`, world.server.url), 'application/json');
    expect(members.status).toBe(200);

    // Out of both groups at the provider: demoted and out of the role at the next login.
    account(world, 'grace', { groups: ['unrelated'] });
    const later = browser();
    expect((await signIn(world, later, 'grace')).status).toBe(302);
    expect((await me(world, later)).json().organization.membership_level).toBe(1);
    expect((await membership(user.id))!.level).toBe(1);
    expect(await roleMembers(m.id)).toBe(0);
    const changes = await world.server.db.query<{ activity: string }>(
      "SELECT activity FROM activity_log WHERE organization_id = $1 AND is_system AND detail->>'name' LIKE $2 ORDER BY seq",
      [world.org.id, `${user.email}%`],
    );
    const seen = changes.map((c) => c.activity);
    for (const activity of ['member_level_changed', 'role_assigned', 'role_unassigned']) expect(seen, activity).toContain(activity);
    expect(seen.filter((a) => a === 'member_level_changed').length).toBe(2);
  });

  it('discovers the provider once and reuses its metadata and keys', async () => {
    account(world, 'cache-1');
    const count = (path: string) => world.idp.requests.filter((r) => r.url.pathname === path).length;
    const tokens = count('/token');
    await signIn(world, browser(), 'cache-1');
    await signIn(world, browser(), 'cache-1');
    expect(count('/token') - tokens).toBe(2);
    // Everything so far, all tests of this file: one discovery, one key set (the ID token's signature is checked).
    expect(count('/.well-known/openid-configuration')).toBe(1);
    expect(count('/jwks')).toBe(1);
  });

  it('gives each started login its own single-use state', async () => {
    account(world, 'twice');
    const b = browser();
    const first = await toCallback(world, b, `/login/oidc/?domain_id=${world.domain.id}`, 'twice');
    const second = await toCallback(world, b, `/login/oidc/?domain_id=${world.domain.id}`, 'twice');
    expect(first.searchParams.get('state')).not.toBe(second.searchParams.get('state'));
    // The browser holds the later state: that login completes.
    const done = await b.get(second);
    expect(done.status, done.body).toBe(302);
  });
});
