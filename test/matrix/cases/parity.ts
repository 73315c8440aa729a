import type { Case } from '../model.js';
import { createKey, type World } from '../world.js';
import { inA, inP } from './core.js';
import { OBJECTS, objectInP } from './roles.js';

/**
 * Issue 24's routes: the key inventory (organization admins; keys need organization_member
 * read/write), the advanced activity log for SIEMs (the activity log's access), and who has access
 * (project members with access_control:read, as the rules themselves).
 */
export function parityCases(w: World): Case[] {
  const inventory = `/api/organizations/${w.orgA}/personal_api_keys/`;
  const project = `/api/projects/${w.projectP}`;
  const acRead = { scope: 'access_control', action: 'read' } as const;
  const activity = { scope: 'activity_log', action: 'read' } as const;
  const list: Case[] = [
    {
      route: 'GET /api/organizations/:organization_id/personal_api_keys/',
      access: { scope: 'organization_member', action: 'read' },
      who: 'admin',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: inventory }),
    },
    {
      // A fresh key of member M for every request: admins revoke it (204), everyone else is refused
      // and the key is removed afterwards.
      route: 'DELETE /api/organizations/:organization_id/personal_api_keys/:key_id/',
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 204,
      request: async () => {
        const key = await createKey(w.people.M, ['feature_flag:read']);
        return inA(w, {
          method: 'DELETE',
          path: `${inventory}${key.id}/`,
          cleanup: async () => {
            await w.server.db.query('DELETE FROM personal_api_keys WHERE id = $1', [key.id]);
          },
        });
      },
    },
    {
      route: 'GET /api/organizations/:organization_id/advanced_activity_logs/',
      access: activity,
      who: 'member',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/advanced_activity_logs/?schema=ocsf&page_size=5` }),
    },
    {
      route: 'GET /api/projects/:project_id/advanced_activity_logs/',
      access: activity,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${project}/advanced_activity_logs/?schema=ocsf&ordering=created_at&follow=true&page_size=5` }),
    },
    {
      route: 'GET /api/projects/:project_id/users_with_access/',
      access: acRead,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${project}/users_with_access/` }),
    },
    {
      route: 'GET /api/projects/:project_id/users_with_access/:resource/',
      access: acRead,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${project}/users_with_access/feature_flag/` }),
    },
  ];
  for (const path of Object.keys(OBJECTS) as Array<keyof typeof OBJECTS>) {
    list.push({
      // The object is O's, with no rules of its own: every project member may view it.
      route: `GET /api/projects/:project_id/${path}/:id/users_with_access/`,
      access: acRead,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${project}/${path}/${await objectInP(w, path)}/users_with_access/` }),
    });
  }
  return list;
}
