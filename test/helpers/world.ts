import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { Client } from './client.js';

export const PASSWORD = 'correct horse battery staple';
let counter = 0;
export const uniqueEmail = (prefix = 'user') => `${prefix}-${++counter}-${randomBytes(3).toString('hex')}@example.com`;

export interface Person {
  client: Client;
  user: { id: number; uuid: string; email: string };
}

export interface Org {
  id: string;
  owner: Person;
  defaultProjectId: number;
}

/** Signs up a new person who owns a new organization (the test server allows open sign-up). */
export async function newOrganization(baseUrl: string, name = 'Org'): Promise<Org> {
  const client = new Client(baseUrl);
  const email = uniqueEmail('owner');
  const res = await client.post('/api/signup/', { first_name: 'Olive', email, password: PASSWORD, organization_name: name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const me = await client.get('/api/users/@me/');
  return {
    id: me.body.organization.id,
    owner: { client, user: { id: res.body.id, uuid: res.body.uuid, email } },
    defaultProjectId: me.body.team.id,
  };
}

/** Invites a new person at `level` and has them accept through the sign-up route; returns their session. */
export async function addMember(org: Org, level: 1 | 8 | 15, inviter: Person = org.owner): Promise<Person> {
  const email = uniqueEmail(level === 15 ? 'owner' : level === 8 ? 'admin' : 'member');
  const invite = await inviter.client.post(`/api/organizations/${org.id}/invites/`, { target_email: email, level });
  expect(invite.status, JSON.stringify(invite.body)).toBe(201);
  const client = new Client(inviter.client.baseUrl);
  const res = await client.post(`/api/signup/${invite.body.id}/`, { first_name: 'Mel', password: PASSWORD });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { client, user: { id: res.body.id, uuid: res.body.uuid, email } };
}

/** Creates a personal API key for the person and returns a client that uses it. */
export async function keyClient(person: Person, scopes: string[], extra: Record<string, unknown> = {}): Promise<Client & { keyId: string }> {
  const res = await person.client.post('/api/personal_api_keys/', { label: `k-${scopes.join(',')}`.slice(0, 40), scopes, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return Object.assign(person.client.withKey(res.body.value), { keyId: res.body.id as string });
}

export function expectError(res: { status: number; body: any }, status: number, detail?: string | RegExp, attr?: string | null) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(Object.keys(res.body).sort()).toEqual(['attr', 'code', 'detail', 'type']);
  if (detail instanceof RegExp) expect(res.body.detail).toMatch(detail);
  else if (detail !== undefined) expect(res.body.detail).toBe(detail);
  if (attr !== undefined) expect(res.body.attr).toBe(attr);
}
