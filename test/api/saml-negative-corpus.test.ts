/**
 * The negative SAML corpus (test/fixtures/saml/negative/, listed in manifest.json): tampered and
 * invalid responses, each built at test time from one genuinely signed by a real IdP (samlp), each
 * posted over HTTP to the real ACS. Every one must be refused with an HTML error page and one of
 * its expected reasons, set no session cookie, leave /api/users/@me/ at 401 and write a security
 * event. Two positive controls prove the base responses (and the forge's own signing) are valid,
 * so each refusal is due to its tampering.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resign, type ForgeContext, type NegativeFixture } from '../fixtures/saml/forge.js';
import { newSigningKey, startIdp, type IdpUser, type SigningKey, type TestIdp } from '../helpers/saml-idp.js';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  acsUrl,
  b64,
  Browser,
  followToIdp,
  insertSamlDomain,
  maxSeq,
  postToAcs,
  samlFailures,
  spEntityId,
  startLogin,
  type SamlDomain,
} from '../helpers/sso-setup.js';
import { newOrganization, type Org } from '../helpers/world.js';

const corpusDir = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/saml/negative');
const manifest = JSON.parse(readFileSync(join(corpusDir, 'manifest.json'), 'utf8')) as {
  fixtures: Array<{ file: string; attack: string; expect: string[] }>;
};

let server: TestServer;
let idp: TestIdp;
let keys: { idp: SigningKey; attacker: SigningKey; otherTenant: SigningKey };
let org: Org;
let domain: SamlDomain;
let unverified: SamlDomain;
let otherDomain: SamlDomain;
let victim: IdpUser;
let acceptedAssertionId: string;

beforeAll(async () => {
  server = await startServer();
  const [idpKey, attacker, otherTenant] = await Promise.all([newSigningKey(), newSigningKey('Mallory'), newSigningKey('Other tenant IdP')]);
  keys = { idp: idpKey, attacker, otherTenant };
  idp = await startIdp({ signer: idpKey, spEntityId: spEntityId(server), acsUrl: acsUrl(server) });
  org = await newOrganization(server.url, 'Corpus Org');
  domain = await insertSamlDomain(server, org.id, idp, [idpKey.cert]);
  unverified = await insertSamlDomain(server, org.id, idp, [idpKey.cert], { verified: false });
  const other = await newOrganization(server.url, 'Other tenant');
  otherDomain = await insertSamlDomain(server, other.id, { entityId: 'urn:other-tenant:idp', ssoUrl: idp.ssoUrl }, [otherTenant.cert]);
  victim = { nameId: `admin@${domain.domain}`, email: `admin@${domain.domain}`, firstName: 'Admin' };
}, 120_000);

afterAll(async () => {
  await idp?.close();
  await server?.close();
});

const sessionCookie = (res: { headers: Headers }) => res.headers.getSetCookie().find((c) => c.startsWith('sessionid='));

/** A fresh AuthnRequest for the corpus domain, and the context fixtures build from. */
async function context(browser: Browser): Promise<ForgeContext> {
  const { requestId } = await startLogin(browser, `domain_id=${domain.id}`);
  const { requestId: otherDomainRequestId } = await startLogin(new Browser(server.url), `domain_id=${otherDomain.id}`);
  return {
    idp,
    idpKey: keys.idp,
    attackerKey: keys.attacker,
    otherTenantKey: keys.otherTenant,
    victim,
    domain,
    unverifiedDomainId: unverified.id,
    requestId,
    otherDomainRequestId,
    acceptedAssertionId,
    acsUrl: acsUrl(server),
    spEntityId: spEntityId(server),
    genuine: (options = {}) => idp.response({ user: victim, inResponseTo: requestId, ...options }),
  };
}

describe('negative SAML corpus', () => {
  it('has a manifest entry naming the attack for every fixture file, and at least 30 of them', async () => {
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(corpusDir)
      .filter((f) => f.endsWith('.ts'))
      .sort();
    expect(manifest.fixtures.map((f) => f.file).sort()).toEqual(files);
    expect(files.length).toBeGreaterThanOrEqual(30);
    for (const entry of manifest.fixtures) {
      const fixture = (await import(join(corpusDir, entry.file))).default as NegativeFixture;
      expect(fixture.attack, entry.file).toBe(entry.attack);
      expect(fixture.expect, entry.file).toEqual(entry.expect);
    }
  });

  it('positive controls: the genuine flow and a response re-signed by the forge with the IdP key are accepted', async () => {
    idp.user = victim;
    const browser = new Browser(server.url);
    const { location } = await startLogin(browser, `domain_id=${domain.id}`);
    const form = await followToIdp(location);
    acceptedAssertionId = /<saml:Assertion[^>]*\sID="([^"]+)"/.exec(Buffer.from(form.SAMLResponse, 'base64').toString())![1]!;
    const res = await postToAcs(browser, form);
    expect(res.status, String(res.body)).toBe(302);
    expect((await browser.get('/api/users/@me/')).body.email).toBe(victim.email);

    const second = new Browser(server.url);
    const ctx = await context(second);
    const resigned = resign(await ctx.genuine(), { assertion: keys.idp, response: keys.idp });
    const ok = await postToAcs(second, { SAMLResponse: b64(resigned), RelayState: domain.id });
    expect(ok.status, String(ok.body)).toBe(302);
    expect((await second.get('/api/users/@me/')).body.email).toBe(victim.email);
  });

  it('rejects every response in the corpus over HTTP: error page, expected reason, no session, a security event', async () => {
    expect(acceptedAssertionId).toBeDefined();
    const started = Date.now();
    const [{ n: sessionsBefore }] = (await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions')) as [{ n: number }];
    const problems: string[] = [];
    for (const entry of manifest.fixtures) {
      const fixture = (await import(join(corpusDir, entry.file))).default as NegativeFixture;
      const browser = new Browser(server.url);
      const ctx = await context(browser);
      const built = await fixture.build(ctx);
      const SAMLResponse = typeof built === 'string' ? b64(built) : built.base64;
      const relayState = fixture.relayState?.(ctx) ?? domain.id;
      const seq = await maxSeq(server);
      const res = await postToAcs(browser, { SAMLResponse, RelayState: relayState });
      const where = `${entry.file} (${entry.attack})`;
      if (res.status !== 400 && res.status !== 403) problems.push(`${where}: status ${res.status}`);
      if (!/^text\/html/.test(res.headers.get('content-type') ?? '')) problems.push(`${where}: not an HTML page`);
      if (/<script/i.test(String(res.body))) problems.push(`${where}: page contains a script`);
      if (sessionCookie(res) || browser.cookies.has('sessionid')) problems.push(`${where}: session cookie set`);
      const me = await browser.get('/api/users/@me/');
      if (me.status !== 401) problems.push(`${where}: /api/users/@me/ answered ${me.status}`);
      const events = await samlFailures(server, seq);
      const reason = events[0]?.detail?.context?.reason;
      if (events.length !== 1) problems.push(`${where}: ${events.length} security events`);
      else if (!fixture.expect.includes(reason))
        problems.push(`${where}: reason ${reason} (${events[0]!.detail.context.detail ?? ''}), expected ${fixture.expect.join('|')}`);
      const expectedOrg = reason === 'unknown_domain' ? null : org.id;
      if (events[0] && events[0].organization_id !== expectedOrg) problems.push(`${where}: event in organization ${events[0].organization_id}`);
      if (events[0] && JSON.stringify(events[0].detail).includes(SAMLResponse.slice(0, 60))) problems.push(`${where}: raw response stored`);
    }
    expect(problems).toEqual([]);
    const [{ n: sessionsAfter }] = (await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions')) as [{ n: number }];
    expect(sessionsAfter).toBe(sessionsBefore);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 120_000);
});
