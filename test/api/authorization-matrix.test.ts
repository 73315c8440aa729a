/**
 * The authorization matrix: every registered route x every kind of principal -> the expected
 * status, over real HTTP. The expectations come from the rules written out below (an oracle
 * independent of src/access/decide.ts), and the test fails if a route exists that the matrix does
 * not cover, or the matrix names a route that does not exist.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, newOrganization, PASSWORD, uniqueEmail, type Person } from '../helpers/world.js';

type UserName = 'O' | 'O2' | 'A' | 'M' | 'N' | 'X' | 'SA';

/** How each person relates to organization A (X is another organization's owner). */
const ROLE: Record<UserName, 'owner' | 'admin' | 'member' | 'outsider'> = {
  O: 'owner',
  O2: 'owner',
  A: 'admin',
  M: 'member',
  N: 'member',
  SA: 'member',
  X: 'outsider',
};
/** Explicit members (level 1) of private project P and of every fresh private project. */
const EXPLICIT_IN_PRIVATE: ReadonlySet<UserName> = new Set(['M', 'SA']);

interface KeyFacts {
  scopes: string[];
  scopedTeams?: number[];
  scopedOrganizations?: string[];
  dead?: 'revoked' | 'expired';
}

interface Principal {
  name: string;
  user: UserName | null;
  client: Client;
  key?: KeyFacts & { id: string };
}

type Access = { scope: string; action: 'read' | 'write' } | 'key-management' | 'key-self' | 'public';
type Who = 'anyone' | 'person' | 'member' | 'admin' | 'owner' | 'project-member' | 'project-admin' | 'key-owner';

interface Req {
  method: string;
  path: string;
  body?: unknown;
  organizationId?: string;
  projectId?: number;
  cleanup?: () => Promise<void>;
}

interface Case {
  route: string;
  access: Access;
  who: Who;
  ok: number;
  request: (p: Principal) => Promise<Req>;
}

let server: TestServer;
const people = {} as Record<UserName, Person>;
let orgA: string;
let orgC: string; // another organization owned by O
let projectP: number; // private, M and SA explicit members at level 1
let projectD: number; // the default open project
let serviceAccountId: string;
let starKeyId: string;
const principals: Principal[] = [];
const scopeKeys = new Map<string, Client & { keyId: string }>(); // O2's single-scope keys

const sessionOf = (user: UserName) => people[user].client;

async function createKey(person: Person, scopes: string[], extra: Record<string, unknown> = {}) {
  const res = await person.client.post('/api/personal_api_keys/', { label: `m-${randomBytes(3).toString('hex')}`, scopes, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as string, value: res.body.value as string };
}

async function freshPrivateProject(): Promise<number> {
  const o = sessionOf('O');
  const project = await o.post(`/api/organizations/${orgA}/projects/`, { name: `p-${randomBytes(3).toString('hex')}`, access_control: true });
  expect(project.status).toBe(201);
  for (const u of EXPLICIT_IN_PRIVATE) {
    const res = await o.post(`/api/projects/${project.body.id}/explicit_members/`, { user_uuid: people[u].user.uuid, level: 1 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  return project.body.id;
}

/** A fresh organization with the same people at the same levels as A (service accounts belong to A only). */
async function freshOrganizationLikeA(): Promise<string> {
  const o = sessionOf('O');
  const org = await o.post('/api/organizations/', { name: `t-${randomBytes(3).toString('hex')}` });
  expect(org.status).toBe(201);
  for (const [u, level] of [['O2', 15], ['A', 8], ['M', 1], ['N', 1]] as const) {
    const invite = await o.post(`/api/organizations/${org.body.id}/invites/`, { target_email: people[u].user.email, level });
    expect(invite.status, JSON.stringify(invite.body)).toBe(201);
    const accepted = await sessionOf(u).post(`/api/signup/${invite.body.id}/`, {});
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
  }
  return org.body.id;
}

async function freshServiceAccount(): Promise<string> {
  const res = await sessionOf('O').post(`/api/organizations/${orgA}/service_accounts/`, { name: `sa-${randomBytes(3).toString('hex')}` });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** A key of the principal's own user to act on (made through that user's session), removed afterwards. */
async function ownKeyTarget(p: Principal): Promise<{ id: string; cleanup: () => Promise<void> }> {
  if (!p.user || p.user === 'SA') return { id: 'nonexistent0000', cleanup: async () => undefined };
  const key = await createKey(people[p.user], ['insight:read']);
  return {
    id: key.id,
    cleanup: async () => {
      await sessionOf(p.user as UserName).delete(`/api/personal_api_keys/${key.id}/`);
    },
  };
}

const grants = (scopes: string[], scope: string, action: 'read' | 'write') =>
  scopes.includes('*') || scopes.includes(`${scope}:write`) || (action === 'read' && scopes.includes(`${scope}:read`));

/** The rules, written out: what status should this principal get for this request? */
function expected(c: Case, p: Principal, req: Req): number {
  if (c.access === 'public') return c.ok;
  if (!p.user) return 401;
  const key = p.key;
  if (key?.dead) return 401;
  if (key) {
    if (c.access === 'key-management' || c.access === 'key-self') {
      if (p.user === 'SA') return 403;
      const unconfinedStar = key.scopes.includes('*') && !key.scopedTeams && !key.scopedOrganizations;
      const readsItself = c.access === 'key-self' && req.path.includes(`/${key.id}/`);
      if (!unconfinedStar && !readsItself) return 403;
    } else {
      if (!grants(key.scopes, c.access.scope, c.access.action)) return 403;
      if (req.projectId !== undefined && key.scopedTeams && !key.scopedTeams.includes(req.projectId)) return 403;
      if (req.organizationId !== undefined && key.scopedOrganizations && !key.scopedOrganizations.includes(req.organizationId)) return 403;
    }
  }
  const role = ROLE[p.user];
  if (req.organizationId !== undefined && role === 'outsider') return 404;
  const inPrivate = role === 'owner' || role === 'admin' || EXPLICIT_IN_PRIVATE.has(p.user);
  switch (c.who) {
    case 'anyone':
      return c.ok;
    case 'person':
      return p.user === 'SA' ? 403 : c.ok;
    case 'member':
      return c.ok;
    case 'admin':
      return role === 'owner' || role === 'admin' ? c.ok : 403;
    case 'owner':
      return role === 'owner' ? c.ok : 403;
    case 'project-member':
      return inPrivate ? c.ok : 403;
    case 'project-admin':
      return role === 'owner' || role === 'admin' ? c.ok : 403;
    case 'key-owner':
      // The target is O's `*` key: O reads it; other people do not find it.
      return p.user === 'O' ? c.ok : 404;
  }
}

const unique = () => randomBytes(4).toString('hex');
const inA = (req: Req): Req => ({ ...req, organizationId: orgA });
const inP = (req: Req, projectId = projectP): Req => ({ ...req, organizationId: orgA, projectId });

function writes(methods: readonly string[], make: (method: string) => Omit<Case, 'route'> & { url: string }): Case[] {
  return methods.map((method) => {
    const { url, ...rest } = make(method);
    return { route: `${method} ${url}`, ...rest };
  });
}

function cases(): Case[] {
  const org = `/api/organizations/:organization_id/`;
  const list: Case[] = [
    // Public routes: the same answer for everyone, credentials or not.
    { route: 'GET /_health', access: 'public', who: 'anyone', ok: 200, request: async () => ({ method: 'GET', path: '/_health' }) },
    {
      route: 'POST /api/signup/',
      access: 'public',
      who: 'anyone',
      ok: 201,
      request: async () => ({ method: 'POST', path: '/api/signup/', body: { first_name: 'S', email: uniqueEmail('signup'), password: PASSWORD } }),
    },
    {
      route: 'GET /api/signup/:invite_id/',
      access: 'public',
      who: 'anyone',
      ok: 400,
      request: async () => ({ method: 'GET', path: '/api/signup/00000000-0000-4000-8000-000000000000/' }),
    },
    {
      route: 'POST /api/signup/:invite_id/',
      access: 'public',
      who: 'anyone',
      ok: 400,
      request: async () => ({ method: 'POST', path: '/api/signup/00000000-0000-4000-8000-000000000000/', body: { first_name: 'S', password: PASSWORD } }),
    },
    {
      route: 'POST /api/login/',
      access: 'public',
      who: 'anyone',
      ok: 400,
      request: async () => ({ method: 'POST', path: '/api/login/', body: { email: 'nobody@example.com', password: 'wrong password' } }),
    },

    // The signed-in user.
    { route: 'GET /api/users/:user_id/', access: { scope: 'user', action: 'read' }, who: 'anyone', ok: 200, request: async () => ({ method: 'GET', path: '/api/users/@me/' }) },
    ...writes(['PATCH'], () => ({
      url: '/api/users/:user_id/',
      access: { scope: 'user', action: 'write' },
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'PATCH', path: '/api/users/@me/', body: { last_name: 'Matrix' } }),
    })),

    // Organizations.
    { route: 'GET /api/organizations/', access: { scope: 'organization', action: 'read' }, who: 'anyone', ok: 200, request: async () => ({ method: 'GET', path: '/api/organizations/' }) },
    {
      route: 'POST /api/organizations/',
      access: { scope: 'organization', action: 'write' },
      who: 'person',
      ok: 201,
      request: async () => ({ method: 'POST', path: '/api/organizations/', body: { name: `o-${unique()}` } }),
    },
    { route: `GET ${org}`, access: { scope: 'organization', action: 'read' }, who: 'member', ok: 200, request: async () => inA({ method: 'GET', path: `/api/organizations/${orgA}/` }) },
    ...writes(['PATCH', 'PUT'], (method) => ({
      url: org,
      access: { scope: 'organization', action: 'write' },
      who: 'admin',
      ok: 200,
      request: async () => inA({ method, path: `/api/organizations/${orgA}/`, body: { members_can_invite: true } }),
    })),
    {
      route: `DELETE ${org}`,
      access: { scope: 'organization', action: 'write' },
      who: 'owner',
      ok: 204,
      request: async () => {
        const id = await freshOrganizationLikeA();
        return { method: 'DELETE', path: `/api/organizations/${id}/`, organizationId: id };
      },
    },

    // Members.
    { route: `GET ${org}members/`, access: { scope: 'organization_member', action: 'read' }, who: 'member', ok: 200, request: async () => inA({ method: 'GET', path: `/api/organizations/${orgA}/members/` }) },
    ...writes(['PATCH', 'PUT'], (method) => ({
      url: `${org}members/:user_uuid/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 200,
      request: async () => inA({ method, path: `/api/organizations/${orgA}/members/${people.N.user.uuid}/`, body: { level: 1 } }),
    })),
    {
      route: `DELETE ${org}members/:user_uuid/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 204,
      request: async () => {
        const target = await addMember({ id: orgA, owner: people.O, defaultProjectId: projectD }, 1);
        return inA({ method: 'DELETE', path: `/api/organizations/${orgA}/members/${target.user.uuid}/` });
      },
    },

    // Invites (members may invite at their own level while members_can_invite is on).
    { route: `GET ${org}invites/`, access: { scope: 'organization_member', action: 'read' }, who: 'member', ok: 200, request: async () => inA({ method: 'GET', path: `/api/organizations/${orgA}/invites/` }) },
    {
      route: `POST ${org}invites/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'member',
      ok: 201,
      request: async () => inA({ method: 'POST', path: `/api/organizations/${orgA}/invites/`, body: { target_email: uniqueEmail('inv'), level: 1 } }),
    },
    {
      route: `DELETE ${org}invites/:invite_id/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'member',
      ok: 204,
      request: async () => {
        const invite = await sessionOf('O').post(`/api/organizations/${orgA}/invites/`, { target_email: uniqueEmail('inv'), level: 1 });
        return inA({ method: 'DELETE', path: `/api/organizations/${orgA}/invites/${invite.body.id}/` });
      },
    },

    // Projects.
    { route: `GET ${org}projects/`, access: { scope: 'project', action: 'read' }, who: 'member', ok: 200, request: async () => inA({ method: 'GET', path: `/api/organizations/${orgA}/projects/` }) },
    {
      route: `POST ${org}projects/`,
      access: { scope: 'project', action: 'write' },
      who: 'admin',
      ok: 201,
      request: async () => inA({ method: 'POST', path: `/api/organizations/${orgA}/projects/`, body: { name: `p-${unique()}` } }),
    },
    { route: 'GET /api/projects/', access: { scope: 'project', action: 'read' }, who: 'anyone', ok: 200, request: async () => ({ method: 'GET', path: '/api/projects/' }) },
    { route: 'GET /api/projects/:project_id/', access: { scope: 'project', action: 'read' }, who: 'project-member', ok: 200, request: async () => inP({ method: 'GET', path: `/api/projects/${projectP}/` }) },
    ...writes(['PATCH', 'PUT'], (method) => ({
      url: '/api/projects/:project_id/',
      access: { scope: 'project', action: 'write' },
      who: 'project-admin',
      ok: 200,
      request: async () => inP({ method, path: `/api/projects/${projectP}/`, body: { name: 'Production' } }),
    })),
    {
      route: 'DELETE /api/projects/:project_id/',
      access: { scope: 'project', action: 'write' },
      who: 'project-admin',
      ok: 204,
      request: async () => {
        const id = await freshPrivateProject();
        return inP({ method: 'DELETE', path: `/api/projects/${id}/` }, id);
      },
    },

    // Personal API keys.
    { route: 'GET /api/personal_api_keys/', access: 'key-management', who: 'anyone', ok: 200, request: async () => ({ method: 'GET', path: '/api/personal_api_keys/' }) },
    {
      route: 'POST /api/personal_api_keys/',
      access: 'key-management',
      who: 'anyone',
      ok: 201,
      request: async (p) => ({
        method: 'POST',
        path: '/api/personal_api_keys/',
        body: { label: 'matrix-created', scopes: ['insight:read'] },
        cleanup: async () => {
          if (!p.user || p.user === 'SA') return;
          const keys = await sessionOf(p.user).get('/api/personal_api_keys/');
          for (const k of keys.body.filter((k: { label: string }) => k.label === 'matrix-created')) {
            await sessionOf(p.user).delete(`/api/personal_api_keys/${k.id}/`);
          }
        },
      }),
    },
    { route: 'GET /api/personal_api_keys/:key_id/', access: 'key-self', who: 'key-owner', ok: 200, request: async () => ({ method: 'GET', path: `/api/personal_api_keys/${starKeyId}/` }) },
    ...writes(['PATCH', 'PUT'], (method) => ({
      url: '/api/personal_api_keys/:key_id/',
      access: 'key-management',
      who: 'anyone',
      ok: 200,
      request: async (p) => {
        const target = await ownKeyTarget(p);
        return { method, path: `/api/personal_api_keys/${target.id}/`, body: { label: 'renamed' }, cleanup: target.cleanup };
      },
    })),
    {
      route: 'DELETE /api/personal_api_keys/:key_id/',
      access: 'key-management',
      who: 'anyone',
      ok: 204,
      request: async (p) => {
        const target = await ownKeyTarget(p);
        return { method: 'DELETE', path: `/api/personal_api_keys/${target.id}/`, cleanup: target.cleanup };
      },
    },
    {
      route: 'POST /api/personal_api_keys/:key_id/roll/',
      access: 'key-management',
      who: 'anyone',
      ok: 200,
      request: async (p) => {
        const target = await ownKeyTarget(p);
        return { method: 'POST', path: `/api/personal_api_keys/${target.id}/roll/`, cleanup: target.cleanup };
      },
    },

    // Service accounts (organization membership administration).
    { route: `GET ${org}service_accounts/`, access: { scope: 'organization_member', action: 'read' }, who: 'member', ok: 200, request: async () => inA({ method: 'GET', path: `/api/organizations/${orgA}/service_accounts/` }) },
    {
      route: `POST ${org}service_accounts/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 201,
      request: async () => inA({ method: 'POST', path: `/api/organizations/${orgA}/service_accounts/`, body: { name: `sa-${unique()}` } }),
    },
    {
      route: `GET ${org}service_accounts/:account_id/`,
      access: { scope: 'organization_member', action: 'read' },
      who: 'member',
      ok: 200,
      request: async () => inA({ method: 'GET', path: `/api/organizations/${orgA}/service_accounts/${serviceAccountId}/` }),
    },
    {
      route: `DELETE ${org}service_accounts/:account_id/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 204,
      request: async () => inA({ method: 'DELETE', path: `/api/organizations/${orgA}/service_accounts/${await freshServiceAccount()}/` }),
    },
    {
      route: `GET ${org}service_accounts/:account_id/keys/`,
      access: { scope: 'organization_member', action: 'read' },
      who: 'member',
      ok: 200,
      request: async () => inA({ method: 'GET', path: `/api/organizations/${orgA}/service_accounts/${serviceAccountId}/keys/` }),
    },
    {
      route: `POST ${org}service_accounts/:account_id/keys/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 201,
      request: async () =>
        inA({
          method: 'POST',
          path: `/api/organizations/${orgA}/service_accounts/${await freshServiceAccount()}/keys/`,
          body: { label: 'k', scopes: ['project:read'] },
        }),
    },
    {
      route: `POST ${org}service_accounts/:account_id/keys/:key_id/roll/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 200,
      request: async () => {
        const { account, key } = await serviceAccountWithKey();
        return inA({ method: 'POST', path: `/api/organizations/${orgA}/service_accounts/${account}/keys/${key}/roll/` });
      },
    },
    {
      route: `DELETE ${org}service_accounts/:account_id/keys/:key_id/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 204,
      request: async () => {
        const { account, key } = await serviceAccountWithKey();
        return inA({ method: 'DELETE', path: `/api/organizations/${orgA}/service_accounts/${account}/keys/${key}/` });
      },
    },
  ];

  // Project members: the source document's family and PostHog's, over the same data and rules.
  for (const family of ['members', 'explicit_members']) {
    const base = `/api/projects/:project_id/${family}/`;
    list.push(
      { route: `GET ${base}`, access: { scope: 'project', action: 'read' }, who: 'project-member', ok: 200, request: async () => inP({ method: 'GET', path: `/api/projects/${projectP}/${family}/` }) },
      {
        route: `POST ${base}`,
        access: { scope: 'project', action: 'write' },
        who: 'project-admin',
        ok: 201,
        request: async () => {
          const id = await freshPrivateProject();
          return inP({ method: 'POST', path: `/api/projects/${id}/${family}/`, body: { user_uuid: people.N.user.uuid, level: 1 } }, id);
        },
      },
      ...writes(['PATCH', 'PUT'], (method) => ({
        url: `${base}:user_uuid/`,
        access: { scope: 'project', action: 'write' },
        who: 'project-admin',
        ok: 200,
        request: async () => inP({ method, path: `/api/projects/${projectP}/${family}/${people.M.user.uuid}/`, body: { level: 1 } }),
      })),
      {
        route: `DELETE ${base}:user_uuid/`,
        access: { scope: 'project', action: 'write' },
        who: 'project-admin',
        ok: 204,
        request: async () => {
          const id = await freshPrivateProject();
          return inP({ method: 'DELETE', path: `/api/projects/${id}/${family}/${people.M.user.uuid}/` }, id);
        },
      },
    );
  }

  // Logging out ends the caller's session, so it runs last.
  list.push({ route: 'POST /api/logout/', access: 'public', who: 'anyone', ok: 204, request: async () => ({ method: 'POST', path: '/api/logout/' }) });
  return list;
}

async function serviceAccountWithKey(): Promise<{ account: string; key: string }> {
  const account = await freshServiceAccount();
  const key = await sessionOf('O').post(`/api/organizations/${orgA}/service_accounts/${account}/keys/`, { label: 'k', scopes: ['project:read'] });
  expect(key.status).toBe(201);
  return { account, key: key.body.id };
}

beforeAll(async () => {
  server = await startServer();
  const a = await newOrganization(server.url, 'Org A');
  orgA = a.id;
  projectD = a.defaultProjectId;
  people.O = a.owner;
  people.O2 = await addMember(a, 15);
  people.A = await addMember(a, 8);
  people.M = await addMember(a, 1);
  people.N = await addMember(a, 1);
  people.X = (await newOrganization(server.url, 'Org B')).owner;
  const prod = await people.O.client.post(`/api/organizations/${orgA}/projects/`, { name: 'Production', access_control: true });
  projectP = prod.body.id;
  await people.O.client.post(`/api/projects/${projectP}/explicit_members/`, { user_uuid: people.M.user.uuid, level: 1 });
  const c = await people.O.client.post('/api/organizations/', { name: 'Org C' });
  orgC = c.body.id;

  serviceAccountId = await freshServiceAccount();
  await people.O.client.post(`/api/projects/${projectP}/explicit_members/`, { user_uuid: serviceAccountId, level: 1 });
  const saKey = await people.O.client.post(`/api/organizations/${orgA}/service_accounts/${serviceAccountId}/keys/`, { label: 'sa', scopes: ['*'] });
  people.SA = { client: new Client(server.url).withKey(saKey.body.value), user: { id: 0, uuid: serviceAccountId, email: '' } };

  const O = people.O;
  const keyPrincipal = async (name: string, user: UserName, facts: KeyFacts, extra: Record<string, unknown> = {}) => {
    const key = await createKey(people[user], facts.scopes, extra);
    principals.push({ name, user, client: new Client(server.url).withKey(key.value), key: { ...facts, id: key.id } });
    return key;
  };
  const star = await keyPrincipal('`*` key', 'O', { scopes: ['*'] });
  starKeyId = star.id;
  await keyPrincipal('key with an unrelated scope', 'O', { scopes: ['insight:read'] });
  await keyPrincipal('key scoped to another project', 'O', { scopes: ['*'], scopedTeams: [projectD] }, { scoped_teams: [projectD] });
  await keyPrincipal('key scoped to another organization', 'O', { scopes: ['*'], scopedOrganizations: [orgC] }, { scoped_organizations: [orgC] });
  const revoked = await keyPrincipal('revoked key', 'O', { scopes: ['*'], dead: 'revoked' });
  expect((await O.client.delete(`/api/personal_api_keys/${revoked.id}/`)).status).toBe(204);
  const expired = await keyPrincipal('expired key', 'O', { scopes: ['*'], dead: 'expired' });
  await server.db.query("UPDATE personal_api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1", [expired.id]);
  principals.push({ name: 'service-account key', user: 'SA', client: people.SA.client, key: { id: saKey.body.id, scopes: ['*'], scopedOrganizations: [orgA] } });

  for (const scope of ['organization', 'organization_member', 'project', 'user']) {
    for (const action of ['read', 'write']) {
      const key = await createKey(people.O2, [`${scope}:${action}`]);
      scopeKeys.set(`${scope}:${action}`, Object.assign(new Client(server.url).withKey(key.value), { keyId: key.id }));
    }
  }

  principals.push(
    { name: 'owner', user: 'O', client: people.O.client },
    { name: 'admin', user: 'A', client: people.A.client },
    { name: 'member', user: 'M', client: people.M.client },
    { name: 'member outside the private project', user: 'N', client: people.N.client },
    { name: "another organization's owner", user: 'X', client: people.X.client },
    { name: 'no credentials', user: null, client: new Client(server.url) },
  );
});

afterAll(() => server?.close());

/** The principals that depend on the route: a key holding exactly its scope, and a read key on it. */
function routePrincipals(c: Case): Principal[] {
  const [scope, action] = typeof c.access === 'object' ? [c.access.scope, c.access.action] : ['user', 'read'];
  const exact = scopeKeys.get(`${scope}:${action}`)!;
  const read = scopeKeys.get(`${scope}:read`)!;
  return [
    { name: `key with only ${scope}:${action}`, user: 'O2', client: exact, key: { id: exact.keyId, scopes: [`${scope}:${action}`] } },
    { name: `read key (${scope}:read)`, user: 'O2', client: read, key: { id: read.keyId, scopes: [`${scope}:read`] } },
  ];
}

describe('authorization matrix', () => {
  it('covers exactly the registered routes', () => {
    const registered = server.routes.map((r) => `${r.method} ${r.url}`).sort();
    const covered = cases().map((c) => c.route).sort();
    expect(covered).toEqual(registered);
    // And each case declares the access its route declares.
    for (const c of cases()) {
      const route = server.routes.find((r) => `${r.method} ${r.url}` === c.route)!;
      const declared =
        route.access.kind === 'public'
          ? 'public'
          : route.access.kind === 'key_management'
            ? route.access.keys === 'self'
              ? 'key-self'
              : 'key-management'
            : { scope: route.access.scope, action: route.access.action };
      expect(declared, c.route).toEqual(c.access);
    }
  });

  it('gives every principal the expected status on every route', async () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const c of cases()) {
      for (const p of [...principals, ...routePrincipals(c)]) {
        const req = await c.request(p);
        // The principal stays who it is: cookies a response sets (sign-up) are not kept.
        const res = await p.client.request(req.method, req.path, req.body, { storeCookies: false });
        const want = expected(c, p, req);
        checked++;
        if (res.status !== want) mismatches.push(`${c.route} as ${p.name}: got ${res.status}, expected ${want} ${JSON.stringify(res.body)}`);
        if (res.status >= 400 && (res.body === null || typeof res.body !== 'object' || !('detail' in res.body) || !('type' in res.body))) {
          mismatches.push(`${c.route} as ${p.name}: error without PostHog's shape: ${JSON.stringify(res.body)}`);
        }
        await req.cleanup?.();
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(cases().length * principals.length);
  });
});
