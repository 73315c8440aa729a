import type { Case, Principal } from '../model.js';
import { inA, inP } from './core.js';
import type { World } from '../world.js';

/**
 * A feature flag in P made by O, and a pending request to delete it (inserted directly, in the form
 * a deletion request takes), by M or by the principal itself (who may cancel their own).
 */
async function pendingDeletion(w: World, by: Principal | null = null): Promise<string> {
  const [flag] = await w.server.db.query<{ id: number }>(
    `INSERT INTO feature_flags (team_id, key, created_by_id) VALUES ($1, 'matrix-' || gen_random_uuid(), $2) RETURNING id`,
    [w.projectP, w.people.O.user.id],
  );
  const requester = by?.user ? w.people[by.user].user.uuid : w.people.M.user.uuid;
  const [request] = await w.server.db.query<{ id: string }>(
    `INSERT INTO change_requests (organization_id, team_id, action, resource, resource_id, requested_by_id, intent, expires_at)
     VALUES ($1, $2, 'feature_flag.delete', 'feature_flag', $3, (SELECT id FROM users WHERE uuid::text = $4), jsonb_build_object('flag_id', $5::int, 'full_request_data', '{"deleted": true}'::jsonb, 'preconditions', '{}'::jsonb),
             now() + interval '1 day') RETURNING id`,
    [w.orgA, w.projectP, String(flag!.id), requester, flag!.id],
  );
  return request!.id;
}

/** A policy for enabling flags, straight into the store (in P, or organization-wide). */
async function storedPolicy(w: World, teamId: number | null): Promise<string> {
  const [row] = await w.server.db.query<{ id: string }>(
    `INSERT INTO approval_policies (organization_id, team_id, action, role_id) VALUES ($1, $2, 'feature_flag.enable', NULL) RETURNING id`,
    [w.orgA, teamId],
  );
  return row!.id;
}

/** Change requests and approval policies: read by project (or organization) members, decided by managers (org admins), policies changed by admins. */
export function approvalCases(w: World): Case[] {
  const base = (id = w.projectP) => `/api/projects/${id}/change_requests/`;
  const policies = `/api/projects/${w.projectP}/approval_policies/`;
  const orgPolicies = `/api/organizations/${w.orgA}/approval_policies/`;
  const removePolicies = async () => {
    await w.server.db.query('DELETE FROM approval_policies WHERE organization_id = $1', [w.orgA]);
  };
  const read = { scope: 'approvals', action: 'read' } as const;
  const write = { scope: 'approvals', action: 'write' } as const;
  return [
    {
      route: 'GET /api/projects/:project_id/change_requests/',
      access: read,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: base() }),
    },
    {
      route: 'GET /api/projects/:project_id/change_requests/:request_id/',
      access: read,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${base()}${await pendingDeletion(w)}/` }),
    },
    ...(['approve', 'reject'] as const).map(
      (verb): Case => ({
        route: `POST /api/projects/:project_id/change_requests/:request_id/${verb}/`,
        access: write,
        who: 'project-admin',
        ok: 200,
        request: async () => inP(w, { method: 'POST', path: `${base()}${await pendingDeletion(w)}/${verb}/`, body: {} }),
      }),
    ),
    {
      // The requester cancels their own request: anyone who may write approvals in the project.
      route: 'POST /api/projects/:project_id/change_requests/:request_id/cancel/',
      access: write,
      who: 'project-member',
      ok: 200,
      request: async (p) => inP(w, { method: 'POST', path: `${base()}${await pendingDeletion(w, p)}/cancel/`, body: {} }),
    },
    {
      route: 'GET /api/projects/:project_id/approval_policies/',
      access: read,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: policies }),
    },
    {
      route: 'POST /api/projects/:project_id/approval_policies/',
      access: write,
      who: 'admin',
      ok: 201,
      request: async () => inP(w, { method: 'POST', path: policies, body: { action: 'delete_feature_flag' }, cleanup: removePolicies }),
    },
    {
      route: 'GET /api/projects/:project_id/approval_policies/:policy_id/',
      access: read,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${policies}${await storedPolicy(w, w.projectP)}/`, cleanup: removePolicies }),
    },
    {
      route: 'PATCH /api/projects/:project_id/approval_policies/:policy_id/',
      access: write,
      who: 'admin',
      ok: 200,
      request: async () =>
        inP(w, { method: 'PATCH', path: `${policies}${await storedPolicy(w, w.projectP)}/`, body: { enabled: false }, cleanup: removePolicies }),
    },
    {
      route: 'DELETE /api/projects/:project_id/approval_policies/:policy_id/',
      access: write,
      who: 'admin',
      ok: 204,
      request: async () => inP(w, { method: 'DELETE', path: `${policies}${await storedPolicy(w, w.projectP)}/`, cleanup: removePolicies }),
    },
    {
      route: 'GET /api/organizations/:organization_id/approval_policies/',
      access: read,
      who: 'member',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: orgPolicies }),
    },
    {
      route: 'POST /api/organizations/:organization_id/approval_policies/',
      access: write,
      who: 'admin',
      ok: 201,
      request: async () =>
        inA(w, { method: 'POST', path: orgPolicies, body: { action_key: 'feature_flag.enable', approver_config: { quorum: 1 } }, cleanup: removePolicies }),
    },
    {
      route: 'GET /api/organizations/:organization_id/approval_policies/:policy_id/',
      access: read,
      who: 'member',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `${orgPolicies}${await storedPolicy(w, null)}/`, cleanup: removePolicies }),
    },
    {
      route: 'PATCH /api/organizations/:organization_id/approval_policies/:policy_id/',
      access: write,
      who: 'admin',
      ok: 200,
      request: async () =>
        inA(w, { method: 'PATCH', path: `${orgPolicies}${await storedPolicy(w, null)}/`, body: { enabled: false }, cleanup: removePolicies }),
    },
    {
      route: 'DELETE /api/organizations/:organization_id/approval_policies/:policy_id/',
      access: write,
      who: 'admin',
      ok: 204,
      request: async () => inA(w, { method: 'DELETE', path: `${orgPolicies}${await storedPolicy(w, null)}/`, cleanup: removePolicies }),
    },
  ];
}
