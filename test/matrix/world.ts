/** The authorization matrix's world: two organizations, every kind of person and key, and factories for fresh targets. */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { hashKeyValue, maskKeyValue, newKeyValue } from '../../src/domain/organizations/api-keys.js';
import { Client } from '../helpers/client.js';
import type { TestServer } from '../helpers/server.js';
import { addMember, newOrganization, type Person } from '../helpers/world.js';
import { EXPLICIT_IN_PRIVATE, type Case, type KeyFacts, type Principal, type UserName } from './model.js';

export interface World {
  server: TestServer;
  people: Record<UserName, Person>;
  /** Organization A, where the matrix happens; O owns it. */
  orgA: string;
  /** Another organization owned by O. */
  orgC: string;
  /** Private project in A; M and SA are explicit members at level 1. */
  projectP: number;
  /** A's default (open) project. */
  projectD: number;
  serviceAccountId: string;
  starKeyId: string;
  principals: Principal[];
  /** O2's single-scope keys, by scope. */
  scopeKeys: Map<string, Client & { keyId: string }>;
}

export const sessionOf = (w: World, user: UserName) => w.people[user].client;

export async function createKey(person: Person, scopes: string[], extra: Record<string, unknown> = {}) {
  const res = await person.client.post('/api/personal_api_keys/', { label: `m-${randomBytes(3).toString('hex')}`, scopes, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as string, value: res.body.value as string };
}

export async function freshPrivateProject(w: World): Promise<number> {
  const o = sessionOf(w, 'O');
  const project = await o.post(`/api/organizations/${w.orgA}/projects/`, { name: `p-${randomBytes(3).toString('hex')}`, access_control: true });
  expect(project.status).toBe(201);
  for (const u of EXPLICIT_IN_PRIVATE) {
    const res = await o.post(`/api/projects/${project.body.id}/explicit_members/`, { user_uuid: w.people[u].user.uuid, level: 1 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  return project.body.id;
}

/** A fresh organization with the same people at the same levels as A (service accounts belong to A only). */
export async function freshOrganizationLikeA(w: World): Promise<string> {
  const o = sessionOf(w, 'O');
  const org = await o.post('/api/organizations/', { name: `t-${randomBytes(3).toString('hex')}` });
  expect(org.status).toBe(201);
  for (const [u, level] of [
    ['O2', 15],
    ['A', 8],
    ['M', 1],
    ['N', 1],
  ] as const) {
    const invite = await o.post(`/api/organizations/${org.body.id}/invites/`, { target_email: w.people[u].user.email, level });
    expect(invite.status, JSON.stringify(invite.body)).toBe(201);
    const accepted = await sessionOf(w, u).post(`/api/signup/${invite.body.id}/`, {});
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
  }
  return org.body.id;
}

export async function freshServiceAccount(w: World): Promise<string> {
  const res = await sessionOf(w, 'O').post(`/api/organizations/${w.orgA}/service_accounts/`, { name: `sa-${randomBytes(3).toString('hex')}` });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** A key of the principal's own user to act on (made through that user's session), removed afterwards. */
export async function ownKeyTarget(w: World, p: Principal): Promise<{ id: string; cleanup: () => Promise<void> }> {
  if (!p.user || p.user === 'SA') return { id: 'nonexistent0000', cleanup: async () => undefined };
  const key = await insertKey(w, p.user, ['insight:read']);
  return {
    id: key.id,
    cleanup: async () => {
      await w.server.db.query('DELETE FROM personal_api_keys WHERE id = $1', [key.id]);
    },
  };
}

/** A key for one of the world's people, written straight to the store as the server would write it. */
export async function insertKey(w: World, user: UserName, scopes: string[], allowedIps: string[] | null = null): Promise<{ id: string; value: string }> {
  const value = newKeyValue();
  const id = `matrix${randomBytes(12).toString('hex')}`;
  await w.server.db.query(
    `INSERT INTO personal_api_keys (id, user_id, label, mask_value, secure_value, scopes, allowed_ips)
     SELECT $1, id, 'matrix', $2, $3, $4, $6 FROM users WHERE uuid = $5`,
    [id, maskKeyValue(value), hashKeyValue(value), scopes, w.people[user].user.uuid, allowedIps],
  );
  return { id, value };
}

/**
 * A client that speaks from another address: the matrix's server trusts its proxy (trustProxy), so
 * X-Forwarded-For is the client address it checks a key's ranges against.
 */
class ForwardedClient extends Client {
  constructor(
    baseUrl: string,
    key: string,
    private readonly address: string,
  ) {
    super(baseUrl, { key });
  }
  override request<T = any>(method: string, path: string, body?: unknown, options: Parameters<Client['request']>[3] = {}) {
    return super.request<T>(method, path, body, { ...options, headers: { 'x-forwarded-for': this.address, ...options.headers } });
  }
}

/** An organization of O's that forbids member keys, with `user` as a Member. */
async function joinKeyForbiddingOrganization(w: World, user: UserName): Promise<void> {
  const o = sessionOf(w, 'O');
  const org = await o.post('/api/organizations/', { name: `no-keys-${randomBytes(3).toString('hex')}` });
  expect(org.status).toBe(201);
  const invite = await o.post(`/api/organizations/${org.body.id}/invites/`, { target_email: w.people[user].user.email, level: 1 });
  expect(invite.status, JSON.stringify(invite.body)).toBe(201);
  expect((await sessionOf(w, user).post(`/api/signup/${invite.body.id}/`, {})).status).toBe(201);
  // Back to A as the current organization, so that the user's session routes stay about A.
  expect((await sessionOf(w, user).patch('/api/users/@me/', { set_current_organization: w.orgA })).status).toBe(200);
  const policy = await o.patch(`/api/organizations/${org.body.id}/`, { members_can_use_personal_api_keys: false });
  expect(policy.status, JSON.stringify(policy.body)).toBe(200);
}

/** A service account that an owner raised to Owner level: only owners may act on it (the grant ceiling). */
export async function ownerLevelServiceAccount(w: World): Promise<string> {
  const account = await freshServiceAccount(w);
  const raised = await sessionOf(w, 'O').patch(`/api/organizations/${w.orgA}/members/${account}/`, { level: 15 });
  expect(raised.status, JSON.stringify(raised.body)).toBe(200);
  return account;
}

export async function serviceAccountWithKey(w: World, account?: string): Promise<{ account: string; key: string }> {
  account ??= await freshServiceAccount(w);
  const key = await sessionOf(w, 'O').post(`/api/organizations/${w.orgA}/service_accounts/${account}/keys/`, { label: 'k', scopes: ['project:read'] });
  expect(key.status).toBe(201);
  return { account, key: key.body.id };
}

export async function buildWorld(server: TestServer): Promise<World> {
  const w = { server, people: {} as Record<UserName, Person>, principals: [] as Principal[], scopeKeys: new Map() } as World;

  const a = await newOrganization(w.server.url, 'Org A');
  w.orgA = a.id;
  w.projectD = a.defaultProjectId;
  w.people.O = a.owner;
  w.people.O2 = await addMember(a, 15);
  w.people.A = await addMember(a, 8);
  w.people.M = await addMember(a, 1);
  w.people.N = await addMember(a, 1);
  w.people.X = (await newOrganization(w.server.url, 'Org B')).owner;
  // E: a member of A who also belongs to an organization that enforces 2FA, and has no second factor.
  w.people.E = await addMember(a, 1);
  const orgE = await w.people.E.client.post('/api/organizations/', { name: 'Org E' });
  expect((await w.people.E.client.patch(`/api/organizations/${orgE.body.id}/`, { enforce_2fa: true })).status).toBe(200);
  const prod = await w.people.O.client.post(`/api/organizations/${w.orgA}/projects/`, { name: 'Production', access_control: true });
  w.projectP = prod.body.id;
  await w.people.O.client.post(`/api/projects/${w.projectP}/explicit_members/`, { user_uuid: w.people.M.user.uuid, level: 1 });
  const c = await w.people.O.client.post('/api/organizations/', { name: 'Org C' });
  w.orgC = c.body.id;

  w.serviceAccountId = await freshServiceAccount(w);
  await w.people.O.client.post(`/api/projects/${w.projectP}/explicit_members/`, { user_uuid: w.serviceAccountId, level: 1 });
  const saKey = await w.people.O.client.post(`/api/organizations/${w.orgA}/service_accounts/${w.serviceAccountId}/keys/`, { label: 'sa', scopes: ['*'] });
  w.people.SA = { client: new Client(w.server.url).withKey(saKey.body.value), user: { id: 0, uuid: w.serviceAccountId, email: '' } };

  const O = w.people.O;
  const keyPrincipal = async (name: string, user: UserName, facts: KeyFacts, extra: Record<string, unknown> = {}) => {
    const key = await createKey(w.people[user], facts.scopes, extra);
    w.principals.push({ name, user, client: new Client(w.server.url).withKey(key.value), key: { ...facts, id: key.id } });
    return key;
  };
  const star = await keyPrincipal('`*` key', 'O', { scopes: ['*'] });
  w.starKeyId = star.id;
  await keyPrincipal('key with an unrelated scope', 'O', { scopes: ['insight:read'] });
  await keyPrincipal('key scoped to another project', 'O', { scopes: ['*'], scopedTeams: [w.projectD] }, { scoped_teams: [w.projectD] });
  await keyPrincipal('key scoped to another organization', 'O', { scopes: ['*'], scopedOrganizations: [w.orgC] }, { scoped_organizations: [w.orgC] });
  const revoked = await keyPrincipal('revoked key', 'O', { scopes: ['*'], dead: 'revoked' });
  expect((await O.client.delete(`/api/personal_api_keys/${revoked.id}/`)).status).toBe(204);
  const expired = await keyPrincipal('expired key', 'O', { scopes: ['*'], dead: 'expired' });
  await w.server.db.query("UPDATE personal_api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1", [expired.id]);
  w.principals.push({
    name: 'service-account key',
    user: 'SA',
    client: w.people.SA.client,
    key: { id: saKey.body.id, scopes: ['*'], scopedOrganizations: [w.orgA] },
  });
  await keyPrincipal('key confined to project P', 'O', { scopes: ['*'], scopedTeams: [w.projectP] }, { scoped_teams: [w.projectP] });
  await keyPrincipal('key confined to organization A', 'O', { scopes: ['*'], scopedOrganizations: [w.orgA] }, { scoped_organizations: [w.orgA] });
  // Keys are not only an owner's: the same rules hold for an admin's, a member's and an outsider's.
  await keyPrincipal('admin `*` key', 'A', { scopes: ['*'] });
  await keyPrincipal('member `*` key', 'M', { scopes: ['*'] });
  await keyPrincipal("another organization's owner's `*` key", 'X', { scopes: ['*'] });
  // N is also a Member of an organization that forbids member keys (IN_KEY_FORBIDDING_ORGANIZATION);
  // the key was made before N joined it (no key reaching it could be made after).
  await keyPrincipal('`*` key of a member whose other organization forbids keys', 'N', { scopes: ['*'] });
  await joinKeyForbiddingOrganization(w, 'N');

  // Keys bound to networks (stored directly: O's keys count towards the 10 a person may create).
  // From 127.0.0.1 (no X-Forwarded-For) a key bound to 203.0.113.0/24 is outside; from 203.0.113.5 it is a `*` key.
  const bound = await insertKey(w, 'O', ['*'], ['203.0.113.0/24']);
  w.principals.push({
    name: 'key used from outside its address ranges',
    user: 'O',
    client: new Client(w.server.url).withKey(bound.value),
    key: { id: bound.id, scopes: ['*'], outsideRanges: true },
  });
  const boundV6 = await insertKey(w, 'M', ['*'], ['2001:db8::/32']);
  w.principals.push({
    name: 'IPv6-bound key used from an IPv4-mapped address',
    user: 'M',
    client: new ForwardedClient(w.server.url, boundV6.value, '::ffff:203.0.113.5'),
    key: { id: boundV6.id, scopes: ['*'], outsideRanges: true },
  });
  w.principals.push({
    name: 'key used from inside its address ranges',
    user: 'O',
    client: new ForwardedClient(w.server.url, bound.value, '203.0.113.5'),
    key: { id: bound.id, scopes: ['*'] },
  });

  // O2 holds one key per scope a route declares (and its read twin); stored directly, since the
  // matrix needs more of them than the 10 a person may create (that limit has its own test).
  const scopes = new Set(['user:read']);
  for (const route of server.routes) {
    if (route.access.kind !== 'scoped') continue;
    scopes.add(`${route.access.scope}:${route.access.action}`).add(`${route.access.scope}:read`);
  }
  for (const scope of scopes) {
    const key = await insertKey(w, 'O2', [scope]);
    w.scopeKeys.set(scope, Object.assign(new Client(w.server.url).withKey(key.value), { keyId: key.id }));
  }

  w.principals.push(
    { name: 'owner', user: 'O', client: w.people.O.client },
    { name: 'admin', user: 'A', client: w.people.A.client },
    { name: 'member', user: 'M', client: w.people.M.client },
    { name: 'member outside the private project', user: 'N', client: w.people.N.client },
    { name: "another organization's owner", user: 'X', client: w.people.X.client },
    { name: 'member of a 2FA-enforcing organization without 2FA', user: 'E', client: w.people.E.client },
    { name: 'no credentials', user: null, client: new Client(w.server.url) },
  );

  return w;
}

/** The principals that depend on the route: a key holding exactly its scope, and a read key on it. */
export function routePrincipals(w: World, c: Case): Principal[] {
  const [scope, action] = typeof c.access === 'object' ? [c.access.scope, c.access.action] : ['user', 'read'];
  const exact = w.scopeKeys.get(`${scope}:${action}`)!;
  const read = w.scopeKeys.get(`${scope}:read`)!;
  return [
    { name: `key with only ${scope}:${action}`, user: 'O2', client: exact, key: { id: exact.keyId, scopes: [`${scope}:${action}`] } },
    { name: `read key (${scope}:read)`, user: 'O2', client: read, key: { id: read.keyId, scopes: [`${scope}:read`] } },
  ];
}
