/** SCIM test setup: an organization with a verified domain (rows written straight to the store) and its SCIM token. */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { Client, type Response } from './client.js';
import type { TestServer } from './server.js';
import { newOrganization, PASSWORD, type Org, type Person } from './world.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export interface ScimSetup {
  org: Org;
  domainId: string;
  /** The email domain, e.g. `acme-1a2b3c.example`. */
  domain: string;
  token: string;
  /** A client holding the SCIM token. */
  scim: Client;
  /** `/scim/v2/<domain id>` */
  base: string;
}

/** An email domain nobody else in the test run has. */
export const uniqueDomain = (name = 'acme') => `${name}-${randomBytes(4).toString('hex')}.example`;

/** A domain row of the organization; verified unless told otherwise. */
export async function insertDomain(server: TestServer, organizationId: string, options: { verified?: boolean; domain?: string } = {}) {
  const domain = options.domain ?? uniqueDomain();
  const [row] = await server.db.query<{ id: string }>(
    `INSERT INTO organization_domains (organization_id, domain, verification_challenge, verified_at)
     VALUES ($1, $2, $3, $4) RETURNING id`,
    [organizationId, domain, randomBytes(16).toString('hex'), options.verified === false ? null : new Date()],
  );
  return { id: row!.id, domain };
}

/** Turns SCIM on through the admin API and returns the token it shows once. */
export async function issueToken(admin: Person, organizationId: string, domainId: string): Promise<string> {
  const res = await admin.client.post(`/api/organizations/${organizationId}/domains/${domainId}/scim/token/`);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.scim_bearer_token).toMatch(/^scim_[0-9A-Za-z]{43}$/);
  return res.body.scim_bearer_token;
}

export async function scimSetup(server: TestServer, name = 'Acme'): Promise<ScimSetup> {
  const org = await newOrganization(server.url, name);
  const { id, domain } = await insertDomain(server, org.id);
  const token = await issueToken(org.owner, org.id, id);
  return { org, domainId: id, domain, token, scim: new Client(server.url).withKey(token), base: `/scim/v2/${id}` };
}

/** A SCIM request with SCIM's media type, as Okta and Entra ID send it. */
export function scimRequest(client: Client, method: string, path: string, body?: unknown): Promise<Response> {
  return client.request(method, path, undefined, {
    ...(body !== undefined ? { raw: JSON.stringify(body) } : {}),
    headers: { 'content-type': 'application/scim+json', accept: 'application/scim+json' },
  });
}

export function expectScimError(res: Response, status: number, scimType?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type'), JSON.stringify(res.body)).toMatch(/^application\/scim\+json/);
  expect(res.body.schemas).toEqual([ERROR_SCHEMA]);
  expect(res.body.status).toBe(String(status));
  expect(typeof res.body.detail).toBe('string');
  if (scimType !== undefined) expect(res.body.scimType, JSON.stringify(res.body)).toBe(scimType);
  const allowed = ['detail', 'schemas', 'scimType', 'status'];
  expect(
    Object.keys(res.body).every((k) => allowed.includes(k)),
    JSON.stringify(res.body),
  ).toBe(true);
}

/** A person with a password, a session and a personal API key, whose email is in the domain: joined by invite. */
export async function domainMember(server: TestServer, setup: ScimSetup, local = `emp-${randomBytes(3).toString('hex')}`) {
  const email = `${local}@${setup.domain}`;
  const invite = await setup.org.owner.client.post(`/api/organizations/${setup.org.id}/invites/`, { target_email: email, level: 1 });
  expect(invite.status, JSON.stringify(invite.body)).toBe(201);
  const client = new Client(server.url);
  const res = await client.post(`/api/signup/${invite.body.id}/`, { first_name: 'Pat', password: PASSWORD });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const key = await client.post('/api/personal_api_keys/', { label: 'laptop', scopes: ['*'] });
  expect(key.status, JSON.stringify(key.body)).toBe(201);
  return {
    email,
    uuid: res.body.uuid as string,
    id: res.body.id as number,
    session: client,
    key: new Client(server.url).withKey(key.body.value),
    keyId: key.body.id as string,
  };
}
