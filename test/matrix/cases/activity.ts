import type { Case } from '../model.js';
import type { World } from '../world.js';
import { inA, inP } from './core.js';

/** The activity log: a project's log (project members), the organization's (members), its export and chain verification (admins). */
export function activityCases(w: World): Case[] {
  const access = { scope: 'activity_log', action: 'read' } as const;
  return [
    {
      route: 'GET /api/projects/:project_id/activity_log/',
      access,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `/api/projects/${w.projectP}/activity_log/?scope=Organization` }),
    },
    {
      route: 'GET /api/organizations/:organization_id/activity_log/',
      access,
      who: 'member',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/activity_log/` }),
    },
    {
      route: 'GET /api/organizations/:organization_id/activity_log/export/',
      access,
      who: 'admin',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/activity_log/export/?format=csv&scope=Project` }),
    },
    {
      route: 'GET /api/organizations/:organization_id/activity_log/verify/',
      access,
      who: 'admin',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/activity_log/verify/` }),
    },
  ];
}
