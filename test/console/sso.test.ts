/**
 * Single sign-on in the console: an owner adds a domain, reads the verification record off the page
 * and verifies it (a real DNS server on loopback answers), uploads the IdP's metadata XML (a real
 * SAML IdP on loopback), enforces SAML, turns on JIT and a group mapping, and issues a SCIM token.
 * Then someone new logs in with "Log in with SSO", through the IdP, and lands in the console.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { newSigningKey, startIdp, type TestIdp } from '../helpers/saml-idp.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { acsUrl, spEntityId, uniqueDomain } from '../helpers/sso-setup.js';
import { newOrganization, type Org } from '../helpers/world.js';
import { launch, logIn, open, saysDone, screenshot, visit } from './browser.js';

let server: TestServer;
let browser: Browser;
let dns: TestDnsServer;
let idp: TestIdp;
let org: Org;
const domain = uniqueDomain('acme');

beforeAll(async () => {
  dns = await startDnsServer();
  [server, browser] = await Promise.all([startServer({ dnsServers: [dns.address] }), launch()]);
  idp = await startIdp({ signer: await newSigningKey(), spEntityId: spEntityId(server), acsUrl: acsUrl(server) });
  org = await newOrganization(server.url, 'Acme');
});
afterAll(async () => {
  await browser?.close();
  await idp?.close();
  await server?.close();
  await dns?.close();
});

describe('single sign-on', () => {
  it('verifies a domain, configures SAML from metadata, enforces it, maps a group and issues a SCIM token', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, org.owner.user.email);
    await open(page, 'Single sign-on');
    // What the IdP needs, to copy: the SP entity ID, the ACS URL and the OIDC redirect URI at the public URL.
    const forIdp = page.getByRole('region', { name: 'For your identity provider' });
    expect(await forIdp.getByLabel('SAML SP entity ID (audience)', { exact: true }).inputValue()).toBe(`${server.config.publicUrl}/api/saml/metadata/`);
    expect(await forIdp.getByLabel('SAML ACS URL (recipient, destination)', { exact: true }).inputValue()).toBe(`${server.config.publicUrl}/complete/saml/`);
    expect(await forIdp.getByLabel('OIDC redirect URI', { exact: true }).inputValue()).toBe(`${server.config.publicUrl}/complete/oidc/`);
    await page.getByRole('form', { name: 'Add a domain' }).getByLabel('Domain').fill(domain);
    await page.getByRole('button', { name: 'Add domain' }).click();
    await saysDone(page, `Domain ${domain} added.`);
    const card = page.getByRole('region', { name: new RegExp(`^${domain.replaceAll('.', '\\.')}`) });
    const domainOf = async () => (await org.owner.client.get(`/api/organizations/${org.id}/domains/`)).body.results[0];
    const created = await domainOf();
    const base = `/api/organizations/${org.id}/domains/${created.id}/`;

    // Verification instructions name the record and its value; JIT and enforcement wait for it.
    await card.getByText(`_posthog-challenge.${domain}`).waitFor();
    const challenge = await card.locator('code.challenge').textContent();
    expect(challenge).toBe(created.verification_challenge);
    const jit = card.getByLabel('Create accounts on first SSO login (JIT provisioning)');
    expect(await jit.isDisabled()).toBe(true);
    expect(await jit.getAttribute('title')).toBe('This attribute cannot be updated until the domain is verified.');
    await card.getByRole('button', { name: 'Verify' }).click();
    await card.getByRole('alert').filter({ hasText: 'not found yet' }).waitFor();
    dns.txt.set(`_posthog-challenge.${domain}`, [challenge!]);
    await card.getByRole('button', { name: 'Verify' }).click();
    await saysDone(page, 'Domain verified.');
    // An http:// OIDC issuer is refused, and the refusal stands next to the Issuer field.
    const oidc = card.getByRole('form', { name: `OIDC settings of ${domain}` });
    await oidc.getByLabel('Issuer').fill('http://login.example/');
    await oidc.getByRole('button', { name: 'Save OIDC settings' }).click();
    await oidc.locator('.field-error').filter({ hasText: 'The OIDC issuer must be an https:// URL.' }).waitFor();
    expect(await oidc.getByLabel('Issuer').getAttribute('aria-invalid')).toBe('true');
    await oidc.getByLabel('Issuer').fill('');
    await card.getByText('verified', { exact: true }).waitFor();
    expect((await domainOf()).is_verified).toBe(true);

    // The IdP's metadata XML, uploaded as a file.
    const metadata = await (await fetch(idp.metadataUrl)).text();
    await card.getByLabel('Upload IdP metadata (XML)').setInputFiles({ name: 'idp-metadata.xml', mimeType: 'application/xml', buffer: Buffer.from(metadata) });
    await saysDone(page, 'IdP metadata from idp-metadata.xml applied.');
    const configured = await domainOf();
    expect(configured).toMatchObject({ has_saml: true, saml_entity_id: idp.entityId, saml_acs_url: idp.ssoUrl });
    expect(await card.getByLabel('IdP entity ID').inputValue()).toBe(idp.entityId);
    // The SP metadata the IdP needs is a link away.
    const sp = await fetch(new URL((await page.getByRole('link', { name: 'download SP metadata' }).getAttribute('href'))!, server.url));
    expect(sp.status).toBe(200);
    expect(await sp.text()).toContain(acsUrl(server));

    await card.getByLabel('Require single sign-on').selectOption({ label: 'SAML only' });
    await saysDone(page, `Only SAML sign-in now works for ${domain}.`);
    await jit.check();
    await saysDone(page, 'JIT provisioning on.');
    expect(await domainOf()).toMatchObject({ sso_enforcement: 'saml', jit_provisioning_enabled: true });
    expect((await org.owner.client.get(`/api/organizations/${org.id}/`)).body).toMatchObject({ enforce_sso: true, saml_enforcement: 'saml' });

    const mapping = card.getByRole('form', { name: `Map a group of ${domain}` });
    await mapping.getByLabel('IdP group').fill('warden-admins');
    await mapping.getByLabel('Level').selectOption({ label: 'Admin' });
    await mapping.getByRole('button', { name: 'Add mapping' }).click();
    await saysDone(page, 'Group warden-admins mapped.');
    const mappings = (await org.owner.client.get(`${base}group_mappings/`)).body.results as any[];
    expect(mappings.map((m) => [m.group_name, m.level])).toEqual([['warden-admins', 8]]);

    await card.getByRole('button', { name: 'Turn on SCIM' }).click();
    const token = await card.getByRole('region', { name: 'SCIM bearer token' }).getByRole('textbox').inputValue();
    expect((await domainOf()).scim_enabled).toBe(true);
    const scim = await fetch(`${server.url}/scim/v2/${created.id}/Users`, { headers: { authorization: `Bearer ${token}` } });
    expect(scim.status).toBe(200);
    await screenshot(page, 'sso');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('logs someone new in with SSO: provider found from the email, through the IdP, into the console', async () => {
    const email = `new.hire@${domain}`;
    idp.user = { nameId: email, email, firstName: 'Nia', groups: ['warden-admins'] };
    const { page, context, problems } = await visit(browser, server.url);
    await page.goto('/signin');
    // Password login is refused for an enforced domain, in the API's words.
    const password = page.getByRole('form', { name: 'With your password' });
    await password.getByLabel('Email').fill(email);
    await password.getByLabel('Password').fill('whatever it is');
    await password.getByRole('button', { name: 'Log in' }).click();
    await password.getByRole('alert').filter({ hasText: 'You can only login with SSO for this account (saml).' }).waitFor();

    const sso = page.getByRole('form', { name: 'With single sign-on' });
    await sso.getByLabel('Work email').fill(email);
    await sso.getByRole('button', { name: 'Log in with SSO' }).click();
    // The IdP signs the person in and posts back; Warden provisions them and the console opens.
    await page.getByRole('heading', { level: 1, name: 'Members' }).waitFor({ timeout: 20_000 });
    await page.getByText(email, { exact: true }).first().waitFor();
    const members = (await org.owner.client.get(`/api/organizations/${org.id}/members/`)).body.results as any[];
    expect(members.find((m) => m.user.email === email)?.level).toBe(8);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('SSO as a member', () => {
  it('shows the domains read-only', async () => {
    const { addMember } = await import('../helpers/world.js');
    const member = await addMember(org, 1);
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, member.user.email);
    await open(page, 'Single sign-on');
    await page.getByRole('heading', { level: 2, name: new RegExp(domain.replaceAll('.', '\\.')) }).waitFor();
    const add = page.getByRole('button', { name: 'Add domain' });
    expect(await add.getAttribute('title')).toBe('Your organization access level is insufficient.');
    expect(await page.getByRole('button', { name: 'Add mapping' }).getAttribute('aria-disabled')).toBe('true');
    // The providers' settings are the admins': a member reads whether each is set up, not empty fields.
    await page.getByRole('group', { name: 'SAML of this domain' }).getByText('SAML is set up for this domain.').waitFor();
    await page.getByRole('group', { name: 'OIDC of this domain' }).getByText('OIDC is not set up for this domain.').waitFor();
    expect(await page.getByLabel('IdP entity ID').count()).toBe(0);
    expect(await page.getByLabel('Client secret').count()).toBe(0);
    await screenshot(page, 'sso-as-member');
    expect(problems).toEqual([]);
    await context.close();
  });
});
