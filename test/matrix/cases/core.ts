import { randomBytes } from 'node:crypto';
import { addMember, PASSWORD, uniqueEmail } from '../../helpers/world.js';
import type { Case, Req } from '../model.js';
import { freshOrganizationLikeA, freshPrivateProject, freshServiceAccount, ownKeyTarget, serviceAccountWithKey, sessionOf, type World } from '../world.js';

/** A request in organization A / in project P (or another project of A). */
export const inA = (w: World, req: Req): Req => ({ ...req, organizationId: w.orgA });
export const inP = (w: World, req: Req, projectId = w.projectP): Req => ({ ...req, organizationId: w.orgA, projectId });
const unique = () => randomBytes(4).toString('hex');

export function writes(methods: readonly string[], make: (method: string) => Omit<Case, 'route'> & { url: string }): Case[] {
  return methods.map((method) => {
    const { url, ...rest } = make(method);
    return { route: `${method} ${url}`, ...rest };
  });
}

export function coreCases(w: World): Case[] {
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
    {
      route: 'GET /api/users/:user_id/',
      access: { scope: 'user', action: 'read' },
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'GET', path: '/api/users/@me/' }),
    },
    ...writes(['PATCH'], () => ({
      url: '/api/users/:user_id/',
      access: { scope: 'user', action: 'write' },
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'PATCH', path: '/api/users/@me/', body: { last_name: 'Matrix' } }),
    })),

    // Organizations.
    {
      route: 'GET /api/organizations/',
      access: { scope: 'organization', action: 'read' },
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'GET', path: '/api/organizations/' }),
    },
    {
      route: 'POST /api/organizations/',
      access: { scope: 'organization', action: 'write' },
      who: 'person',
      ok: 201,
      request: async () => ({ method: 'POST', path: '/api/organizations/', body: { name: `o-${unique()}` } }),
    },
    {
      route: `GET ${org}`,
      access: { scope: 'organization', action: 'read' },
      who: 'member',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/` }),
    },
    ...writes(['PATCH', 'PUT'], (method) => ({
      url: org,
      access: { scope: 'organization', action: 'write' },
      who: 'admin',
      ok: 200,
      request: async () => inA(w, { method, path: `/api/organizations/${w.orgA}/`, body: { members_can_invite: true } }),
    })),
    {
      route: `DELETE ${org}`,
      access: { scope: 'organization', action: 'write' },
      who: 'owner',
      ok: 204,
      request: async () => {
        const id = await freshOrganizationLikeA(w);
        return { method: 'DELETE', path: `/api/organizations/${id}/`, organizationId: id };
      },
    },

    // Members.
    {
      route: `GET ${org}members/`,
      access: { scope: 'organization_member', action: 'read' },
      who: 'member',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/members/` }),
    },
    ...writes(['PATCH', 'PUT'], (method) => ({
      url: `${org}members/:user_uuid/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 200,
      request: async () => inA(w, { method, path: `/api/organizations/${w.orgA}/members/${w.people.N.user.uuid}/`, body: { level: 1 } }),
    })),
    {
      route: `DELETE ${org}members/:user_uuid/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 204,
      request: async () => {
        const target = await addMember({ id: w.orgA, owner: w.people.O, defaultProjectId: w.projectD }, 1);
        return inA(w, { method: 'DELETE', path: `/api/organizations/${w.orgA}/members/${target.user.uuid}/` });
      },
    },

    // Invites (members may invite at their own level while members_can_invite is on).
    {
      route: `GET ${org}invites/`,
      access: { scope: 'organization_member', action: 'read' },
      who: 'member',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/invites/` }),
    },
    {
      route: `POST ${org}invites/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'member',
      ok: 201,
      request: async () => inA(w, { method: 'POST', path: `/api/organizations/${w.orgA}/invites/`, body: { target_email: uniqueEmail('inv'), level: 1 } }),
    },
    {
      route: `DELETE ${org}invites/:invite_id/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'member',
      ok: 204,
      request: async () => {
        const invite = await sessionOf(w, 'O').post(`/api/organizations/${w.orgA}/invites/`, { target_email: uniqueEmail('inv'), level: 1 });
        return inA(w, { method: 'DELETE', path: `/api/organizations/${w.orgA}/invites/${invite.body.id}/` });
      },
    },

    // Projects.
    {
      route: `GET ${org}projects/`,
      access: { scope: 'project', action: 'read' },
      who: 'member',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/projects/` }),
    },
    {
      route: `POST ${org}projects/`,
      access: { scope: 'project', action: 'write' },
      who: 'admin',
      ok: 201,
      request: async () => inA(w, { method: 'POST', path: `/api/organizations/${w.orgA}/projects/`, body: { name: `p-${unique()}` } }),
    },
    {
      route: 'GET /api/projects/',
      access: { scope: 'project', action: 'read' },
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'GET', path: '/api/projects/' }),
    },
    {
      route: 'GET /api/projects/:project_id/',
      access: { scope: 'project', action: 'read' },
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `/api/projects/${w.projectP}/` }),
    },
    ...writes(['PATCH', 'PUT'], (method) => ({
      url: '/api/projects/:project_id/',
      access: { scope: 'project', action: 'write' },
      // PostHog: project members update the project; only deletion needs project admin.
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method, path: `/api/projects/${w.projectP}/`, body: { name: 'Production' } }),
    })),
    {
      route: 'DELETE /api/projects/:project_id/',
      access: { scope: 'project', action: 'write' },
      who: 'project-admin',
      ok: 204,
      request: async () => {
        const id = await freshPrivateProject(w);
        return inP(w, { method: 'DELETE', path: `/api/projects/${id}/` }, id);
      },
    },

    // Personal API keys.
    {
      route: 'GET /api/personal_api_keys/',
      access: 'key-management',
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'GET', path: '/api/personal_api_keys/' }),
    },
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
          const keys = await sessionOf(w, p.user).get('/api/personal_api_keys/');
          // A session confined by enforced 2FA lists nothing (and created nothing).
          if (!Array.isArray(keys.body)) return;
          for (const k of keys.body.filter((k: { label: string }) => k.label === 'matrix-created')) {
            await sessionOf(w, p.user).delete(`/api/personal_api_keys/${k.id}/`);
          }
        },
      }),
    },
    {
      route: 'GET /api/personal_api_keys/:key_id/',
      access: 'key-self',
      who: 'key-owner',
      ok: 200,
      request: async () => ({ method: 'GET', path: `/api/personal_api_keys/${w.starKeyId}/` }),
    },
    ...writes(['PATCH', 'PUT'], (method) => ({
      url: '/api/personal_api_keys/:key_id/',
      access: 'key-management',
      who: 'anyone',
      ok: 200,
      request: async (p) => {
        const target = await ownKeyTarget(w, p);
        return { method, path: `/api/personal_api_keys/${target.id}/`, body: { label: 'renamed' }, cleanup: target.cleanup };
      },
    })),
    {
      route: 'DELETE /api/personal_api_keys/:key_id/',
      access: 'key-management',
      who: 'anyone',
      ok: 204,
      request: async (p) => {
        const target = await ownKeyTarget(w, p);
        return { method: 'DELETE', path: `/api/personal_api_keys/${target.id}/`, cleanup: target.cleanup };
      },
    },
    {
      route: 'POST /api/personal_api_keys/:key_id/roll/',
      access: 'key-management',
      who: 'anyone',
      ok: 200,
      request: async (p) => {
        const target = await ownKeyTarget(w, p);
        return { method: 'POST', path: `/api/personal_api_keys/${target.id}/roll/`, cleanup: target.cleanup };
      },
    },

    // Service accounts (organization membership administration).
    {
      route: `GET ${org}service_accounts/`,
      access: { scope: 'organization_member', action: 'read' },
      who: 'member',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/service_accounts/` }),
    },
    {
      route: `POST ${org}service_accounts/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 201,
      request: async () => inA(w, { method: 'POST', path: `/api/organizations/${w.orgA}/service_accounts/`, body: { name: `sa-${unique()}` } }),
    },
    {
      route: `GET ${org}service_accounts/:account_id/`,
      access: { scope: 'organization_member', action: 'read' },
      who: 'member',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/service_accounts/${w.serviceAccountId}/` }),
    },
    {
      route: `DELETE ${org}service_accounts/:account_id/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 204,
      request: async () => inA(w, { method: 'DELETE', path: `/api/organizations/${w.orgA}/service_accounts/${await freshServiceAccount(w)}/` }),
    },
    {
      route: `GET ${org}service_accounts/:account_id/keys/`,
      access: { scope: 'organization_member', action: 'read' },
      who: 'member',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/service_accounts/${w.serviceAccountId}/keys/` }),
    },
    {
      route: `POST ${org}service_accounts/:account_id/keys/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 201,
      request: async () =>
        inA(w, {
          method: 'POST',
          path: `/api/organizations/${w.orgA}/service_accounts/${await freshServiceAccount(w)}/keys/`,
          body: { label: 'k', scopes: ['project:read'] },
        }),
    },
    {
      route: `POST ${org}service_accounts/:account_id/keys/:key_id/roll/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 200,
      request: async () => {
        const { account, key } = await serviceAccountWithKey(w);
        return inA(w, { method: 'POST', path: `/api/organizations/${w.orgA}/service_accounts/${account}/keys/${key}/roll/` });
      },
    },
    {
      route: `DELETE ${org}service_accounts/:account_id/keys/:key_id/`,
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 204,
      request: async () => {
        const { account, key } = await serviceAccountWithKey(w);
        return inA(w, { method: 'DELETE', path: `/api/organizations/${w.orgA}/service_accounts/${account}/keys/${key}/` });
      },
    },
  ];

  // Project members: the source document's family and PostHog's, over the same data and rules.
  for (const family of ['members', 'explicit_members']) {
    const base = `/api/projects/:project_id/${family}/`;
    list.push(
      {
        route: `GET ${base}`,
        access: { scope: 'project', action: 'read' },
        who: 'project-member',
        ok: 200,
        request: async () => inP(w, { method: 'GET', path: `/api/projects/${w.projectP}/${family}/` }),
      },
      {
        route: `POST ${base}`,
        access: { scope: 'project', action: 'write' },
        who: 'project-admin',
        ok: 201,
        request: async () => {
          const id = await freshPrivateProject(w);
          return inP(w, { method: 'POST', path: `/api/projects/${id}/${family}/`, body: { user_uuid: w.people.N.user.uuid, level: 1 } }, id);
        },
      },
      ...writes(['PATCH', 'PUT'], (method) => ({
        url: `${base}:user_uuid/`,
        access: { scope: 'project', action: 'write' },
        who: 'project-admin',
        ok: 200,
        request: async () => inP(w, { method, path: `/api/projects/${w.projectP}/${family}/${w.people.M.user.uuid}/`, body: { level: 1 } }),
      })),
      {
        route: `DELETE ${base}:user_uuid/`,
        access: { scope: 'project', action: 'write' },
        who: 'project-admin',
        ok: 204,
        request: async () => {
          const id = await freshPrivateProject(w);
          return inP(w, { method: 'DELETE', path: `/api/projects/${id}/${family}/${w.people.M.user.uuid}/` }, id);
        },
      },
    );
  }

  return list;
}
