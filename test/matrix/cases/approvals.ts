import type { Case } from '../model.js';
import { inP } from './core.js';
import type { World } from '../world.js';

/** A feature flag in P made by O, and a pending request by M to delete it (inserted directly). */
async function pendingDeletion(w: World): Promise<string> {
  const [flag] = await w.server.db.query<{ id: number }>(
    `INSERT INTO feature_flags (team_id, key, created_by_id) VALUES ($1, 'matrix-' || gen_random_uuid(), $2) RETURNING id`,
    [w.projectP, w.people.O.user.id],
  );
  const [request] = await w.server.db.query<{ id: string }>(
    `INSERT INTO change_requests (team_id, action, resource, resource_id, requested_by_id)
     VALUES ($1, 'delete_feature_flag', 'feature_flag', $2, $3) RETURNING id`,
    [w.projectP, String(flag!.id), w.people.M.user.id],
  );
  return request!.id;
}

/** Change requests and approval policies: read by project members, decided by managers (org admins). */
export function approvalCases(w: World): Case[] {
  const base = (id = w.projectP) => `/api/projects/${id}/change_requests/`;
  const policies = `/api/projects/${w.projectP}/approval_policies/`;
  const removePolicies = async () => {
    await w.server.db.query('DELETE FROM approval_policies WHERE team_id = $1', [w.projectP]);
  };
  return [
    { route: 'GET /api/projects/:project_id/change_requests/', access: { scope: 'approvals', action: 'read' }, who: 'project-member', ok: 200, request: async () => inP(w, { method: 'GET', path: base() }) },
    {
      route: 'GET /api/projects/:project_id/change_requests/:request_id/',
      access: { scope: 'approvals', action: 'read' },
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${base()}${await pendingDeletion(w)}/` }),
    },
    ...(['approve', 'reject'] as const).map(
      (verb): Case => ({
        route: `POST /api/projects/:project_id/change_requests/:request_id/${verb}/`,
        access: { scope: 'approvals', action: 'write' },
        who: 'project-admin',
        ok: 200,
        request: async () => inP(w, { method: 'POST', path: `${base()}${await pendingDeletion(w)}/${verb}/`, body: {} }),
      }),
    ),
    { route: 'GET /api/projects/:project_id/approval_policies/', access: { scope: 'approvals', action: 'read' }, who: 'project-member', ok: 200, request: async () => inP(w, { method: 'GET', path: policies }) },
    {
      route: 'POST /api/projects/:project_id/approval_policies/',
      access: { scope: 'approvals', action: 'write' },
      who: 'admin',
      ok: 201,
      request: async () => inP(w, { method: 'POST', path: policies, body: { action: 'delete_feature_flag' }, cleanup: removePolicies }),
    },
    {
      route: 'DELETE /api/projects/:project_id/approval_policies/:policy_id/',
      access: { scope: 'approvals', action: 'write' },
      who: 'admin',
      ok: 204,
      request: async () => {
        const [row] = await w.server.db.query<{ id: string }>(
          `INSERT INTO approval_policies (team_id, action, role_id) VALUES ($1, 'delete_feature_flag', NULL)
           ON CONFLICT (team_id, action, COALESCE(role_id::text, '')) DO UPDATE SET created_at = now() RETURNING id`,
          [w.projectP],
        );
        return inP(w, { method: 'DELETE', path: `${policies}${row!.id}/`, cleanup: removePolicies });
      },
    },
  ];
}
