import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { hashKeyValue } from '../../../src/domain/organizations/api-keys.js';
import { Client } from '../../helpers/client.js';
import type { Case, Req } from '../model.js';
import { sessionOf, type World } from '../world.js';
import { inA, inP, writes } from './core.js';

const unique = () => randomBytes(4).toString('hex');

/** Fixtures made once per world, on first use. */
const fixtures = new WeakMap<World, Map<string, Promise<string>>>();
function once(w: World, name: string, make: () => Promise<string>): Promise<string> {
  let map = fixtures.get(w);
  if (!map) fixtures.set(w, (map = new Map()));
  let value = map.get(name);
  if (!value) map.set(name, (value = make()));
  return value;
}

/**
 * The matrix gives every route a key holding exactly its scope, and a read key on it, from
 * w.scopeKeys; world.ts makes them for organization, organization_member, project and user only.
 * The access-control routes need O2's access_control:read/write keys: made here the first time a
 * role case runs (the role cases run before the access-control cases), straight into the store, as
 * O2 already holds 8 of the 10 keys a person may create. A no-op once world.ts makes them.
 */
async function ensureScopeKeys(w: World, scope: string): Promise<void> {
  for (const action of ['read', 'write']) {
    const name = `${scope}:${action}`;
    if (w.scopeKeys.has(name)) continue;
    const value = `phx_${randomBytes(24).toString('hex')}`;
    const id = randomBytes(12).toString('hex');
    await w.server.db.query(`INSERT INTO personal_api_keys (id, user_id, label, mask_value, secure_value, scopes) VALUES ($1, $2, $3, $4, $5, $6)`, [
      id,
      w.people.O2.user.id,
      `matrix ${name}`,
      `${value.slice(0, 4)}...${value.slice(-4)}`,
      hashKeyValue(value),
      [name],
    ]);
    w.scopeKeys.set(name, Object.assign(new Client(w.server.url).withKey(value), { keyId: id }));
  }
}

async function newRole(w: World): Promise<string> {
  const res = await sessionOf(w, 'O').post(`/api/organizations/${w.orgA}/roles/`, { name: `role-${unique()}` });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function assignN(w: World, roleId: string): Promise<string> {
  const res = await sessionOf(w, 'O').post(`/api/organizations/${w.orgA}/roles/${roleId}/role_memberships/`, { user_uuid: w.people.N.user.uuid });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** A role with N in it, shared by the read cases. */
const sharedRole = (w: World) => once(w, 'role', () => newRole(w));
const sharedMembership = (w: World) => once(w, 'membership', async () => assignN(w, await sharedRole(w)));

/** A's organization membership id: rules about an organization admin change nobody's access. */
const adminMembershipId = (w: World) =>
  once(w, 'admin-membership', async () => {
    const res = await sessionOf(w, 'O').get(`/api/organizations/${w.orgA}/members/?email=${encodeURIComponent(w.people.A.user.email)}`);
    expect(res.status).toBe(200);
    return res.body.results[0].id as string;
  });

export const OBJECTS = {
  feature_flags: `INSERT INTO feature_flags (team_id, key, created_by_id) VALUES ($1, 'matrix-ac-' || gen_random_uuid(), $2) RETURNING id::text AS id`,
  insights: `INSERT INTO insights (team_id, short_id, created_by_id) VALUES ($1, substr(md5(gen_random_uuid()::text), 1, 12), $2) RETURNING id::text AS id`,
  dashboards: `INSERT INTO dashboards (team_id, name, created_by_id) VALUES ($1, 'matrix', $2) RETURNING id::text AS id`,
  session_recordings: `INSERT INTO session_recordings (id, team_id, distinct_id, start_time, end_time)
    VALUES (gen_random_uuid()::text, $1, 'matrix-' || $2::text, now(), now()) RETURNING id`,
} as const;

/** An object in P created by O (straight into its table), one per kind. */
export const objectInP = (w: World, path: keyof typeof OBJECTS) =>
  once(w, `object:${path}`, async () => {
    const [row] = await w.server.db.query<{ id: string }>(OBJECTS[path], [w.projectP, w.people.O.user.id]);
    return row!.id;
  });

/** Roles, role memberships and access controls. */
export function roleCases(w: World): Case[] {
  const roles = '/api/organizations/:organization_id/roles/';
  const orgRoles = `/api/organizations/${w.orgA}/roles/`;
  const read = { scope: 'organization', action: 'read' } as const;
  const write = { scope: 'organization', action: 'write' } as const;
  const inOrg = async (req: Req) => {
    await ensureScopeKeys(w, 'access_control');
    return inA(w, req);
  };

  const list: Case[] = [
    // Roles: members read, admins and owners write (PostHog's scope_object "organization").
    { route: `GET ${roles}`, access: read, who: 'member', ok: 200, request: () => inOrg({ method: 'GET', path: orgRoles }) },
    {
      route: `POST ${roles}`,
      access: write,
      who: 'admin',
      ok: 201,
      request: () => inOrg({ method: 'POST', path: orgRoles, body: { name: `matrix-${unique()}` } }),
    },
    {
      route: `GET ${roles}:role_id/`,
      access: read,
      who: 'member',
      ok: 200,
      request: async () => inOrg({ method: 'GET', path: `${orgRoles}${await sharedRole(w)}/` }),
    },
    ...writes(['PATCH', 'PUT'], (method) => ({
      url: `${roles}:role_id/`,
      access: write,
      who: 'admin',
      ok: 200,
      request: async () => inOrg({ method, path: `${orgRoles}${await sharedRole(w)}/`, body: { name: `renamed-${unique()}` } }),
    })),
    {
      route: `DELETE ${roles}:role_id/`,
      access: write,
      who: 'admin',
      ok: 204,
      request: async () => inOrg({ method: 'DELETE', path: `${orgRoles}${await newRole(w)}/` }),
    },
    {
      route: `GET ${roles}:role_id/role_memberships/`,
      access: read,
      who: 'member',
      ok: 200,
      request: async () => inOrg({ method: 'GET', path: `${orgRoles}${await sharedRole(w)}/role_memberships/` }),
    },
    {
      route: `POST ${roles}:role_id/role_memberships/`,
      access: write,
      who: 'admin',
      ok: 201,
      request: async () => inOrg({ method: 'POST', path: `${orgRoles}${await newRole(w)}/role_memberships/`, body: { user_uuid: w.people.N.user.uuid } }),
    },
    {
      route: `GET ${roles}:role_id/role_memberships/:membership_id/`,
      access: read,
      who: 'member',
      ok: 200,
      request: async () => inOrg({ method: 'GET', path: `${orgRoles}${await sharedRole(w)}/role_memberships/${await sharedMembership(w)}/` }),
    },
    {
      route: `DELETE ${roles}:role_id/role_memberships/:membership_id/`,
      access: write,
      who: 'admin',
      ok: 204,
      request: async () => {
        const role = await newRole(w);
        return inOrg({ method: 'DELETE', path: `${orgRoles}${role}/role_memberships/${await assignN(w, role)}/` });
      },
    },
  ];

  // Access controls in private project P: project members read; project admins (here: organization
  // admins and owners, as nobody else in A is a project admin of P) change project and object rules;
  // project-wide rules need an organization admin.
  const acRead = { scope: 'access_control', action: 'read' } as const;
  const acWrite = { scope: 'access_control', action: 'write' } as const;
  const project = `/api/projects/${w.projectP}`;
  list.push(
    {
      route: 'GET /api/projects/:project_id/access_controls/',
      access: acRead,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${project}/access_controls/` }),
    },
    {
      route: 'PUT /api/projects/:project_id/access_controls/',
      access: acWrite,
      who: 'project-admin',
      ok: 200,
      request: async () =>
        inP(w, { method: 'PUT', path: `${project}/access_controls/`, body: { access_level: 'admin', organization_member: await adminMembershipId(w) } }),
    },
  );
  for (const name of ['resource_access_controls', 'global_access_controls']) {
    list.push(
      {
        route: `GET /api/projects/:project_id/${name}/`,
        access: acRead,
        who: 'project-member',
        ok: 200,
        request: async () => inP(w, { method: 'GET', path: `${project}/${name}/` }),
      },
      {
        route: `PUT /api/projects/:project_id/${name}/`,
        access: acWrite,
        who: 'admin',
        ok: 200,
        // editor is notebook's built-in default: the rule changes nobody's access.
        request: async () => inP(w, { method: 'PUT', path: `${project}/${name}/`, body: { resource: 'notebook', access_level: 'editor' } }),
      },
    );
  }
  for (const path of Object.keys(OBJECTS) as Array<keyof typeof OBJECTS>) {
    const url = `/api/projects/:project_id/${path}/:id/access_controls/`;
    list.push(
      {
        route: `GET ${url}`,
        access: acRead,
        who: 'project-member',
        ok: 200,
        request: async () => inP(w, { method: 'GET', path: `${project}/${path}/${await objectInP(w, path)}/access_controls/` }),
      },
      {
        // Changing an object's rules: its creator (O), project admins, organization admins, or a
        // "manager" on it. The oracle knows no object levels; no principal here is a manager of it.
        route: `PUT ${url}`,
        access: acWrite,
        who: 'project-admin',
        ok: 200,
        request: async () =>
          inP(w, { method: 'PUT', path: `${project}/${path}/${await objectInP(w, path)}/access_controls/`, body: { access_level: 'editor' } }),
      },
    );
  }
  return list;
}
