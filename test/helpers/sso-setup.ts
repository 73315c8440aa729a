/**
 * SAML test setup: an organization with a verified email domain configured for a test IdP
 * (inserted directly, as the domains API is tested elsewhere), and the browser side of the flows
 * over real HTTP: Warden's redirect to the IdP, the IdP's form, the post back to the ACS.
 */
import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { expect } from 'vitest';
import type { Response } from './client.js';
import { readPostForm, type PostedForm, type TestIdp } from './saml-idp.js';
import type { TestServer } from './server.js';

export interface SamlDomain {
  id: string;
  domain: string;
  organizationId: string;
}

export const spEntityId = (server: TestServer) => `${server.config.publicUrl}/api/saml/metadata/`;
export const acsUrl = (server: TestServer) => `${server.config.publicUrl}/complete/saml/`;

export const uniqueDomain = (prefix = 'corp') => `${prefix}-${randomBytes(4).toString('hex')}.example.com`;

export async function insertSamlDomain(
  server: TestServer,
  organizationId: string,
  idp: { entityId: string; ssoUrl: string },
  certs: string[],
  options: { domain?: string; verified?: boolean; jit?: boolean; idpInitiated?: boolean; groupAttribute?: string } = {},
): Promise<SamlDomain> {
  const domain = options.domain ?? uniqueDomain();
  const [row] = await server.db.query<{ id: string }>(
    `INSERT INTO organization_domains (organization_id, domain, verification_challenge, verified_at, jit_provisioning_enabled,
       saml_entity_id, saml_acs_url, saml_x509_cert, saml_idp_initiated_enabled, group_attribute)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
    [
      organizationId,
      domain,
      randomBytes(16).toString('hex'),
      options.verified === false ? null : new Date(),
      options.jit ?? true,
      idp.entityId,
      idp.ssoUrl,
      certs.join('\n'),
      options.idpInitiated ?? false,
      options.groupAttribute ?? 'groups',
    ],
  );
  return { id: row!.id, domain, organizationId };
}

/** The AuthnRequest in a redirect URL to the IdP (HTTP-Redirect binding: deflated, base64). */
export function readAuthnRequest(location: string): { id: string; xml: string; relayState: string | null } {
  const url = new URL(location);
  const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest') ?? '', 'base64')).toString('utf8');
  const id = /\sID="([^"]+)"/.exec(xml)?.[1];
  if (!id) throw new Error(`no AuthnRequest ID in ${xml}`);
  return { id, xml, relayState: url.searchParams.get('RelayState') };
}

/**
 * A browser's side of SSO: a cookie jar and requests that do not follow redirects (the test
 * follows them itself, to see each hop and the cookies each one sets).
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, options: { body?: string; headers?: Record<string, string> } = {}): Promise<Response<any>> {
    const headers: Record<string, string> = { accept: 'text/html,application/json', ...options.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(new URL(path, this.baseUrl), { method, headers, body: options.body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const [name, value] = [pair!.slice(0, eq), pair!.slice(eq + 1)];
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* HTML or XML */
    }
    return { status: res.status, body, headers: res.headers };
  }

  get = (path: string) => this.request('GET', path);
}

/** GET /login/saml/: the 302 to the IdP, and the AuthnRequest in it. */
export async function startLogin(client: Browser, query: string): Promise<{ location: string; requestId: string; relayState: string | null }> {
  const res = await client.get(`/login/saml/?${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(302);
  const location = res.headers.get('location')!;
  const { id, relayState } = readAuthnRequest(location);
  return { location, requestId: id, relayState };
}

/** What a browser does with the IdP's page: follow Warden's redirect to the IdP and read its form. */
export async function followToIdp(location: string): Promise<PostedForm> {
  const res = await fetch(location, { redirect: 'manual' });
  const html = await res.text();
  expect(res.status, html.slice(0, 300)).toBe(200);
  return readPostForm(html);
}

/** IdP-initiated: the IdP's page without an AuthnRequest. */
export async function idpInitiated(idp: TestIdp, relayState?: string): Promise<PostedForm> {
  const url = new URL(idp.ssoUrl);
  if (relayState !== undefined) url.searchParams.set('RelayState', relayState);
  return followToIdp(url.toString());
}

/** Posts a form to Warden's ACS as a browser would (form-encoded, no redirect following). */
export async function postToAcs(client: Browser, form: { SAMLResponse: string; RelayState?: string }): Promise<Response<string>> {
  const body = new URLSearchParams({ SAMLResponse: form.SAMLResponse, ...(form.RelayState ? { RelayState: form.RelayState } : {}) });
  return client.request('POST', '/complete/saml/', {
    body: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'null' },
  });
}

/** The whole SP-initiated login of whoever is signed in at the IdP; returns Warden's answer to the ACS post. */
export async function spInitiatedLogin(client: Browser, domainId: string): Promise<Response<string>> {
  const { location } = await startLogin(client, `domain_id=${domainId}`);
  const form = await followToIdp(location);
  return postToAcs(client, form);
}

export const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

/** Security events of the SAML flow written since `seq`. */
export async function samlFailures(server: TestServer, sinceSeq = 0): Promise<Array<{ organization_id: string | null; detail: any }>> {
  return server.db.query(
    `SELECT organization_id, detail FROM activity_log WHERE scope = 'Security' AND activity = 'sso_login_failed' AND seq > $1 ORDER BY seq`,
    [sinceSeq],
  );
}

export async function maxSeq(server: TestServer): Promise<number> {
  const [row] = await server.db.query<{ seq: number | null }>('SELECT max(seq)::int AS seq FROM activity_log');
  return row?.seq ?? 0;
}
