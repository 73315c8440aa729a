/**
 * SAML 2.0 interop: Warden against a real IdP implementation (auth0's samlp) on loopback, over
 * real HTTP: GET /login/saml/ -> the IdP -> its signed response posted to /complete/saml/ -> the
 * session works on /api/users/@me/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.js';
import { newSigningKey, startIdp, type SigningKey, type TestIdp } from '../helpers/saml-idp.js';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  acsUrl,
  b64,
  Browser,
  followToIdp,
  idpInitiated,
  insertSamlDomain,
  maxSeq,
  postToAcs,
  samlFailures,
  spEntityId,
  spInitiatedLogin,
  startLogin,
  uniqueDomain,
} from '../helpers/sso-setup.js';
import { expectError, newOrganization, PASSWORD, type Org } from '../helpers/world.js';

let server: TestServer;
let idp: TestIdp;
let idpKey: SigningKey;
let org: Org;

beforeAll(async () => {
  server = await startServer();
  idpKey = await newSigningKey();
  idp = await startIdp({ signer: idpKey, spEntityId: spEntityId(server), acsUrl: acsUrl(server) });
  org = await newOrganization(server.url, 'SAML Org');
});
afterAll(async () => {
  await idp?.close();
  await server?.close();
});

const sessionCookie = (res: { headers: Headers }) => res.headers.getSetCookie().find((c) => c.startsWith('sessionid='));

async function me(client: Browser) {
  return client.get('/api/users/@me/');
}

describe('SP-initiated login', () => {
  it('redirects to the IdP with an AuthnRequest, accepts its signed response and opens a working session', async () => {
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert]);
    idp.user = { nameId: `ada@${d.domain}`, email: `ada@${d.domain}`, firstName: 'Ada', lastName: 'Lovelace' };
    const client = new Browser(server.url);

    const start = await startLogin(client, `email=ada@${d.domain}`);
    expect(start.location.startsWith(`${idp.ssoUrl}?`)).toBe(true);
    expect(start.relayState).toBe(d.id);
    const [pending] = await server.db.query<{ domain_id: string }>('SELECT domain_id FROM sso_requests WHERE id = $1', [start.requestId]);
    expect(pending?.domain_id).toBe(d.id);

    const form = await followToIdp(start.location);
    expect(form.action).toBe(acsUrl(server));
    expect(form.RelayState).toBe(d.id);
    const xml = Buffer.from(form.SAMLResponse, 'base64').toString('utf8');
    expect(xml).toContain(`InResponseTo="${start.requestId}"`);

    const res = await postToAcs(client, form);
    expect(res.status, String(res.body)).toBe(302);
    expect(res.headers.get('location')).toBe('/');
    expect(sessionCookie(res)).toBeDefined();

    const who = await me(client);
    expect(who.status, JSON.stringify(who.body)).toBe(200);
    expect(who.body).toMatchObject({ email: `ada@${d.domain}`, first_name: 'Ada', last_name: 'Lovelace' });
    expect(who.body.organization.id).toBe(org.id);
    // The request was consumed; the identity is (domain, NameID).
    expect(await server.db.query('SELECT 1 FROM sso_requests WHERE id = $1', [start.requestId])).toEqual([]);
    const [identity] = await server.db.query<{ subject: string }>(`SELECT subject FROM sso_identities WHERE domain_id = $1 AND provider = 'saml'`, [d.id]);
    expect(identity?.subject).toBe(`ada@${d.domain}`);
    // A session opened by SSO says so (enforcement ends password sessions, not these).
    const [session] = await server.db.query<{ auth_method: string }>(
      'SELECT auth_method FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = $1)',
      [`ada@${d.domain}`],
    );
    expect(session?.auth_method).toBe('saml');

    // The same response again is a replay: refused, no session.
    const fresh = new Browser(server.url);
    const seq = await maxSeq(server);
    const again = await postToAcs(fresh, form);
    expect(again.status).toBe(400);
    expect(sessionCookie(again)).toBeUndefined();
    expect((await me(fresh)).status).toBe(401);
    const [event] = await samlFailures(server, seq);
    expect(event?.detail.context).toMatchObject({ reason: 'in_response_to', domain: d.domain });
  });

  it('starts from ?domain_id= too, and the ACS works without a RelayState for a request we issued', async () => {
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert]);
    idp.user = { nameId: 'emp-4711', email: `grace@${d.domain}`, firstName: 'Grace' };
    const client = new Browser(server.url);
    const start = await startLogin(client, `domain_id=${d.id}`);
    const form = await followToIdp(start.location);
    const res = await postToAcs(client, { SAMLResponse: form.SAMLResponse });
    expect(res.status, String(res.body)).toBe(302);
    expect((await me(client)).body.email).toBe(`grace@${d.domain}`);
  });

  it("binds the login to the browser that started it: the attacker's response posted from a victim's browser signs no one in", async () => {
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert]);
    idp.user = { nameId: `mallory@${d.domain}`, email: `mallory@${d.domain}` };
    // The victim's browser: one that never started a login, and one that started its own.
    const ownLogin = new Browser(server.url);
    await startLogin(ownLogin, `domain_id=${d.id}`);
    for (const victim of [new Browser(server.url), ownLogin]) {
      const attacker = new Browser(server.url);
      const start = await startLogin(attacker, `domain_id=${d.id}`);
      expect(attacker.cookies.get('warden_saml_request')).toBe(start.requestId);
      const form = await followToIdp(start.location);
      const seq = await maxSeq(server);
      const res = await postToAcs(victim, form);
      expect(res.status, String(res.body)).toBe(400);
      expect(String(res.body)).toContain('started in another browser');
      expect(sessionCookie(res)).toBeUndefined();
      expect((await me(victim)).status).toBe(401);
      const [event] = await samlFailures(server, seq);
      expect(event?.detail.context).toMatchObject({ reason: 'other_browser', domain: d.domain });
    }
    // A fresh login in the right browser works, and its cookie is cleared by the answer.
    const own = new Browser(server.url);
    idp.user = { nameId: `victor@${d.domain}`, email: `victor@${d.domain}` };
    const res = await spInitiatedLogin(own, d.id);
    expect(res.status, String(res.body)).toBe(302);
    expect(own.cookies.has('warden_saml_request')).toBe(false);
  });

  it("answers 400 in PostHog's shape when the email's domain has no verified SAML domain", async () => {
    const anon = new Browser(server.url);
    expectError(await anon.get('/login/saml/?email=someone@unknown-domain.example'), 400, /not configured/, 'email');
    expectError(await anon.get('/login/saml/'), 400, 'This field is required.', 'email');
    expectError(await anon.get('/login/saml/?email=no-at-sign'), 400, /not configured/, 'email');
    expectError(await anon.get('/login/saml/?domain_id=00000000-0000-4000-8000-000000000000'), 400, /not configured/, 'domain_id');
    expectError(await anon.get('/login/saml/?domain_id=garbage'), 400, /not configured/, 'domain_id');
    const unverified = await insertSamlDomain(server, org.id, idp, [idpKey.cert], { verified: false });
    expectError(await anon.get(`/login/saml/?email=x@${unverified.domain}`), 400, /not configured/, 'email');
    expectError(await anon.get(`/login/saml/?domain_id=${unverified.id}`), 400, /not configured/, 'domain_id');
    // A domain without SAML fields (e.g. OIDC only).
    const [plain] = await server.db.query<{ id: string; domain: string }>(
      `INSERT INTO organization_domains (organization_id, domain, verification_challenge, verified_at)
       VALUES ($1, $2, 'x', now()) RETURNING id, domain`,
      [org.id, uniqueDomain('plain')],
    );
    expectError(await anon.get(`/login/saml/?email=x@${plain!.domain}`), 400, /not configured/, 'email');
  });
});

describe('the ACS with bad input', () => {
  it('answers a 400 HTML page (and records it) for garbage, and 415 in PostHog shape for a non-form body', async () => {
    const browser = new Browser(server.url);
    for (const body of [
      '',
      'SAMLResponse=',
      'RelayState=x',
      `SAMLResponse=${'A'.repeat(5000)}`,
      'SAMLResponse=%3Cscript%3E',
      `SAMLResponse=${Buffer.from('<a').toString('base64')}`,
    ]) {
      const seq = await maxSeq(server);
      const res = await browser.request('POST', '/complete/saml/', { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.status, body.slice(0, 40)).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(String(res.body)).not.toContain('<script');
      expect(String(res.body)).not.toMatch(/at .*\.(js|ts):\d+/);
      expect(sessionCookie(res)).toBeUndefined();
      expect((await samlFailures(server, seq))[0]?.detail.context.reason).toBe('malformed_response');
    }
    const json = await new Client(server.url).post('/complete/saml/', { SAMLResponse: 'x' });
    expectError(json, 415);
    expect(json.body.code).toBe('unsupported_media_type');
  });

  it('lets no refused response use up the request: a forged one, or the genuine one in another browser; the starter signs in once', async () => {
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert]);
    idp.user = { nameId: `kept@${d.domain}`, email: `kept@${d.domain}` };
    const starter = new Browser(server.url);
    const { location } = await startLogin(starter, `domain_id=${d.id}`);
    const form = await followToIdp(location);
    // A forged copy (another email, so its signature no longer holds), even from the right browser.
    const xml = Buffer.from(form.SAMLResponse, 'base64').toString('utf8');
    expect(xml).toContain(`kept@${d.domain}`);
    const forged = Buffer.from(xml.replaceAll(`kept@${d.domain}`, `forged@${d.domain}`)).toString('base64');
    const refused = await postToAcs(starter, { ...form, SAMLResponse: forged });
    expect(refused.status, String(refused.body)).toBe(400);
    const elsewhere = await postToAcs(new Browser(server.url), form);
    expect(elsewhere.status, String(elsewhere.body)).toBe(400);
    expect(String(elsewhere.body)).toContain('started in another browser');
    const own = await postToAcs(starter, form);
    expect(own.status, String(own.body)).toBe(302);
    expect((await me(starter)).body.email).toBe(`kept@${d.domain}`);
    // Single use still holds for the starter itself.
    const again = await postToAcs(starter, form);
    expect(again.status, String(again.body)).toBe(400);
    expect(sessionCookie(again)).toBeUndefined();
  });

  it('lets only one of two concurrent posts of the same response through', async () => {
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert]);
    idp.user = { nameId: `twin@${d.domain}`, email: `twin@${d.domain}` };
    const first = new Browser(server.url);
    const { location } = await startLogin(first, `domain_id=${d.id}`);
    const form = await followToIdp(location);
    const second = new Browser(server.url);
    const results = await Promise.all([postToAcs(first, form), postToAcs(second, form)]);
    expect(results.map((r) => r.status).sort()).toEqual([302, 400]);
    expect(results.filter((r) => sessionCookie(r))).toHaveLength(1);
  });
});

describe('IdP-initiated login', () => {
  it('is refused while off (the default), with an error page and a security event', async () => {
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert]);
    idp.user = { nameId: `eve@${d.domain}`, email: `eve@${d.domain}` };
    const client = new Browser(server.url);
    const seq = await maxSeq(server);
    const form = await idpInitiated(idp, d.id);
    expect(Buffer.from(form.SAMLResponse, 'base64').toString()).not.toContain('InResponseTo');
    const res = await postToAcs(client, form);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.body).toContain('not enabled for this domain');
    expect(sessionCookie(res)).toBeUndefined();
    expect((await me(client)).status).toBe(401);
    const events = await samlFailures(server, seq);
    expect(events).toHaveLength(1);
    expect(events[0]!.organization_id).toBe(org.id);
    expect(events[0]!.detail.context).toMatchObject({ reason: 'idp_initiated_disabled', domain: d.domain, provider: 'saml' });
    expect(JSON.stringify(events[0]!.detail)).not.toContain(form.SAMLResponse.slice(0, 40));
  });

  it('is accepted when the domain turns it on, with or without RelayState, once per assertion', async () => {
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert], { idpInitiated: true });
    idp.user = { nameId: `ida@${d.domain}`, email: `ida@${d.domain}`, firstName: 'Ida' };
    const client = new Browser(server.url);
    const form = await idpInitiated(idp, d.id);
    const res = await postToAcs(client, form);
    expect(res.status, String(res.body)).toBe(302);
    expect((await me(client)).body.email).toBe(`ida@${d.domain}`);

    // Replayed: the assertion id is in the shared replay cache.
    const replay = new Browser(server.url);
    const seq = await maxSeq(server);
    const again = await postToAcs(replay, form);
    expect(again.status).toBe(400);
    expect(sessionCookie(again)).toBeUndefined();
    expect((await samlFailures(server, seq))[0]?.detail.context.reason).toBe('replayed_assertion');

    // Without RelayState the IdP's entity id finds the one domain that takes IdP-initiated logins.
    const other = new Browser(server.url);
    const bare = await idpInitiated(idp);
    expect(bare.RelayState).toBe('');
    const ok = await postToAcs(other, bare);
    expect(ok.status, String(ok.body)).toBe(302);
    expect((await me(other)).body.email).toBe(`ida@${d.domain}`);
  });

  it('still refuses a response that names a request Warden never issued', async () => {
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert], { idpInitiated: true });
    const user = { nameId: `ivy@${d.domain}`, email: `ivy@${d.domain}` };
    const xml = await idp.response({ user, inResponseTo: '_never-issued-by-warden' });
    const client = new Browser(server.url);
    const seq = await maxSeq(server);
    const res = await postToAcs(client, { SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: d.id });
    expect(res.status).toBe(400);
    expect(sessionCookie(res)).toBeUndefined();
    expect((await samlFailures(server, seq))[0]?.detail.context.reason).toBe('in_response_to');
  });
});

describe('JIT provisioning and group mapping', () => {
  it('creates a new user at Member on the first login, and refuses when JIT is off', async () => {
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert], { jit: true });
    idp.user = { nameId: `new-${d.id}`, email: `newbie@${d.domain}`, firstName: 'New', lastName: 'Bie' };
    const client = new Browser(server.url);
    const res = await spInitiatedLogin(client, d.id);
    expect(res.status, String(res.body)).toBe(302);
    const who = await me(client);
    expect(who.body.email).toBe(`newbie@${d.domain}`);
    const members = await org.owner.client.get(`/api/organizations/${org.id}/members/?email=newbie@${d.domain}`);
    expect(members.body.results).toHaveLength(1);
    expect(members.body.results[0].level).toBe(1);

    const closed = await insertSamlDomain(server, org.id, idp, [idpKey.cert], { jit: false });
    idp.user = { nameId: `closed-${closed.id}`, email: `stranger@${closed.domain}` };
    const refusedClient = new Browser(server.url);
    const seq = await maxSeq(server);
    const refused = await spInitiatedLogin(refusedClient, closed.id);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('Automatic provisioning is not enabled');
    expect(sessionCookie(refused)).toBeUndefined();
    expect((await samlFailures(server, seq))[0]?.detail.context).toMatchObject({ reason: 'jit_not_enabled', domain: closed.domain });
    expect(await server.db.query('SELECT 1 FROM users WHERE email = $1', [`stranger@${closed.domain}`])).toEqual([]);
  });

  it('maps IdP groups to a level and a role at every login, demotions included, each change in the activity log', async () => {
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert]);
    const role = await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: `SSO admins ${d.id.slice(0, 6)}` });
    expect(role.status, JSON.stringify(role.body)).toBe(201);
    await server.db.query(
      `INSERT INTO sso_group_mappings (domain_id, group_name, level, created_by_level) VALUES ($1, 'warden-admins', 8, 15);
       `.trim(),
      [d.id],
    );
    await server.db.query(`INSERT INTO sso_group_mappings (domain_id, group_name, role_id, created_by_level) VALUES ($1, 'warden-admins', $2, 15)`, [
      d.id,
      role.body.id,
    ]);
    const email = `max@${d.domain}`;
    const client = new Browser(server.url);

    idp.user = { nameId: `max-${d.id}`, email, groups: ['warden-admins', 'everyone'] };
    const seq = await maxSeq(server);
    expect((await spInitiatedLogin(client, d.id)).status).toBe(302);
    const member = async () => (await org.owner.client.get(`/api/organizations/${org.id}/members/?email=${encodeURIComponent(email)}`)).body.results[0];
    expect((await member()).level).toBe(8);
    const roleMembers = async () => (await org.owner.client.get(`/api/organizations/${org.id}/roles/${role.body.id}/role_memberships/`)).body;
    const inRole = async () => JSON.stringify(await roleMembers()).includes(email);
    expect(await inRole()).toBe(true);

    // Second login without the group: demoted to Member and out of the role.
    idp.user = { nameId: `max-${d.id}`, email, groups: ['everyone'] };
    const second = new Browser(server.url);
    expect((await spInitiatedLogin(second, d.id)).status).toBe(302);
    expect((await member()).level).toBe(1);
    expect(await inRole()).toBe(false);

    const entries = await server.db.query<{ activity: string; is_system: boolean; detail: any }>(
      `SELECT activity, is_system, detail FROM activity_log WHERE organization_id = $1 AND seq > $2 AND scope <> 'Security' ORDER BY seq`,
      [org.id, seq],
    );
    const text = JSON.stringify(entries);
    expect(entries.length).toBeGreaterThanOrEqual(4);
    expect(entries.every((e) => e.is_system)).toBe(true);
    expect(text).toContain('sso_group_mapping');
    expect(text).toContain(email);
  });
});

describe('SHA-1', () => {
  it('refuses SHA-1 signatures and digests by default, and accepts them once the domain opts in', async () => {
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert]);
    const user = { nameId: `old@${d.domain}`, email: `old@${d.domain}` };
    const login = async (algorithms: { signatureAlgorithm: 'rsa-sha256' | 'rsa-sha1'; digestAlgorithm: 'sha256' | 'sha1' }) => {
      const browser = new Browser(server.url);
      const start = await startLogin(browser, `domain_id=${d.id}`);
      const xml = await idp.response({ user, inResponseTo: start.requestId, ...algorithms });
      expect(xml).toContain(algorithms.digestAlgorithm === 'sha1' ? 'xmldsig#sha1' : 'xmlenc#sha256');
      const seq = await maxSeq(server);
      const res = await postToAcs(browser, { SAMLResponse: b64(xml), RelayState: d.id });
      return { res, events: await samlFailures(server, seq) };
    };
    for (const algorithms of [
      { signatureAlgorithm: 'rsa-sha1', digestAlgorithm: 'sha1' },
      { signatureAlgorithm: 'rsa-sha256', digestAlgorithm: 'sha1' },
      { signatureAlgorithm: 'rsa-sha1', digestAlgorithm: 'sha256' },
    ] as const) {
      const { res, events } = await login(algorithms);
      expect(res.status, JSON.stringify(algorithms)).toBe(400);
      expect(String(res.body)).toContain('SHA-1');
      expect(events[0]?.detail.context).toMatchObject({ reason: 'weak_algorithm', domain: d.domain });
    }
    const patched = await org.owner.client.patch(`/api/organizations/${org.id}/domains/${d.id}/`, { saml_allow_sha1: true });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.saml_allow_sha1).toBe(true);
    expect((await login({ signatureAlgorithm: 'rsa-sha1', digestAlgorithm: 'sha1' })).res.status).toBe(302);
    expect((await login({ signatureAlgorithm: 'rsa-sha256', digestAlgorithm: 'sha256' })).res.status).toBe(302);
  });
});

describe('certificate rotation', () => {
  it('accepts a response signed with either configured certificate, and not with an unconfigured one', async () => {
    const next = await newSigningKey('Warden test IdP (next)');
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert, next.cert]);
    idp.user = { nameId: `rot@${d.domain}`, email: `rot@${d.domain}` };
    try {
      idp.signer = next;
      const client = new Browser(server.url);
      expect((await spInitiatedLogin(client, d.id)).status).toBe(302);
      expect((await me(client)).body.email).toBe(`rot@${d.domain}`);

      // After the rotation is complete the old certificate is removed: its signatures stop working.
      await server.db.query('UPDATE organization_domains SET saml_x509_cert = $2 WHERE id = $1', [d.id, next.cert]);
      idp.signer = idpKey;
      const old = new Browser(server.url);
      const seq = await maxSeq(server);
      const res = await spInitiatedLogin(old, d.id);
      expect(res.status).toBe(400);
      expect(sessionCookie(res)).toBeUndefined();
      expect((await samlFailures(server, seq))[0]?.detail.context.reason).toBe('invalid_signature');
    } finally {
      idp.signer = idpKey;
    }
  });
});

describe('metadata', () => {
  it('serves the service provider metadata publicly: entity id, ACS (HTTP-POST), signed assertions wanted', async () => {
    const res = await new Browser(server.url).get('/api/saml/metadata/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/xml/);
    const xml = String(res.body);
    expect(xml).toContain(`entityID="${spEntityId(server)}"`);
    expect(xml).toContain(`Location="${acsUrl(server)}"`);
    expect(xml).toContain('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    expect(xml).toContain('WantAssertionsSigned="true"');
  });

  it("reads the real IdP's metadata (fetched over HTTP) into entity id, SSO URL and certificates", async () => {
    const { fetchIdpMetadata, parseIdpMetadata } = await import('../../src/sso/saml-metadata.js');
    const { outboundPolicy } = await import('../../src/net/outbound-policy.js');
    const xml = await fetchIdpMetadata(idp.metadataUrl, outboundPolicy(server.config.outboundAllow));
    const parsed = parseIdpMetadata(xml);
    expect(parsed.entityId).toBe(idp.entityId);
    expect(parsed.ssoUrl).toBe(idp.ssoUrl);
    expect(parsed.certificates).toHaveLength(1);
    const body = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '');
    expect(body(parsed.certificates[0]!)).toBe(body(idpKey.cert));
  });
});

describe('a password user of the domain', () => {
  it('is linked to the SAML identity on first SSO login, not duplicated', async () => {
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert], { jit: false });
    const email = `pat@${d.domain}`;
    const invite = await org.owner.client.post(`/api/organizations/${org.id}/invites/`, { target_email: email, level: 1 });
    const pat = new Client(server.url);
    expect((await pat.post(`/api/signup/${invite.body.id}/`, { first_name: 'Pat', password: PASSWORD })).status).toBe(201);
    idp.user = { nameId: `pat-${d.id}`, email };
    const client = new Browser(server.url);
    expect((await spInitiatedLogin(client, d.id)).status).toBe(302);
    const who = await me(client);
    expect(who.body.email).toBe(email);
    expect(await server.db.query('SELECT id FROM users WHERE lower(email) = lower($1)', [email])).toHaveLength(1);
  });
});
