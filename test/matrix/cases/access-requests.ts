import type { Case, Principal } from '../model.js';
import { ROLE } from '../model.js';
import type { World } from '../world.js';
import { inA, inP } from './core.js';

/**
 * A pending access request, straight into the store: by the principal's own user when they belong to
 * A (they read their own), else by N, who is refused the private project P.
 */
async function pendingRequest(
  w: World,
  projectId: number,
  by: Principal | null,
  target: { resource: string; level: string } = { resource: 'project', level: 'member' },
) {
  const user = by?.user && ROLE[by.user] !== 'outsider' ? by.user : 'N';
  const [row] = await w.server.db.query<{ id: string }>(
    `INSERT INTO access_requests (organization_id, team_id, requested_by_id, organization_member_id, resource, resource_id, access_level, duration_hours, reason)
     SELECT $1::uuid, $2::int, m.user_id, m.id, $4::text, CASE WHEN $4::text = 'project' THEN $2::int::text END, $5::text, 8, 'matrix'
       FROM organization_memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1::uuid AND u.uuid::text = $3
     RETURNING id`,
    [w.orgA, projectId, w.people[user].user.uuid, target.resource, target.level],
  );
  return row!.id;
}

/** Takes back what the cases filed and granted (a grant to N would open P to N for the rest of the matrix). */
const cleanup = (w: World) => async () => {
  await w.server.db.query(`DELETE FROM access_controls c USING access_requests r WHERE r.access_control_id = c.id AND r.organization_id = $1`, [w.orgA]);
  await w.server.db.query('DELETE FROM access_requests WHERE organization_id = $1', [w.orgA]);
};

/**
 * Access requests: every member of A may ask (N too, though refused P), list and read their own; a
 * project request is decided by P's admins (owners and admins: above the ceiling; members, below,
 * are refused); a project-wide resource request only by organization admins.
 */
export function accessRequestCases(w: World): Case[] {
  const base = (projectId = w.projectP) => `/api/projects/${projectId}/access_requests/`;
  const read = { scope: 'access_control', action: 'read' } as const;
  const write = { scope: 'access_control', action: 'write' } as const;
  return [
    {
      route: 'POST /api/projects/:project_id/access_requests/',
      access: write,
      who: 'member',
      ok: 201,
      request: async () =>
        inP(w, {
          method: 'POST',
          path: base(),
          body: { resource: 'project', access_level: 'member', duration_hours: 8, reason: 'matrix' },
          cleanup: cleanup(w),
        }),
    },
    {
      route: 'GET /api/projects/:project_id/access_requests/',
      access: read,
      who: 'member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: base() }),
    },
    {
      route: 'GET /api/projects/:project_id/access_requests/:request_id/',
      access: read,
      who: 'member',
      ok: 200,
      request: async (p) => inP(w, { method: 'GET', path: `${base()}${await pendingRequest(w, w.projectP, p)}/`, cleanup: cleanup(w) }),
    },
    {
      // N's request for P: owners and admins may grant membership of P; M (P's member) and N are below the ceiling.
      route: 'POST /api/projects/:project_id/access_requests/:request_id/approve/',
      access: write,
      who: 'project-admin',
      ok: 200,
      request: async () => inP(w, { method: 'POST', path: `${base()}${await pendingRequest(w, w.projectP, null)}/approve/`, body: {}, cleanup: cleanup(w) }),
    },
    {
      // The ceiling for a project-wide resource rule: organization admins and owners only, even in the open project D.
      route: 'POST /api/projects/:project_id/access_requests/:request_id/approve/',
      access: write,
      who: 'admin',
      ok: 200,
      request: async () =>
        inP(
          w,
          {
            method: 'POST',
            path: `${base(w.projectD)}${await pendingRequest(w, w.projectD, null, { resource: 'feature_flag', level: 'editor' })}/approve/`,
            body: { duration_hours: 1 },
            cleanup: cleanup(w),
          },
          w.projectD,
        ),
    },
    {
      route: 'POST /api/projects/:project_id/access_requests/:request_id/deny/',
      access: write,
      who: 'project-admin',
      ok: 200,
      request: async () =>
        inP(w, { method: 'POST', path: `${base()}${await pendingRequest(w, w.projectP, null)}/deny/`, body: { reason: 'matrix' }, cleanup: cleanup(w) }),
    },
    {
      route: 'GET /api/organizations/:organization_id/access_requests/',
      access: read,
      who: 'member',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/access_requests/` }),
    },
  ];
}
