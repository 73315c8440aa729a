/**
 * The sweeper of time-bound grants (docs/time-bound-access.md). A grant past its `expires_at` is
 * already out of force on every node (migration 0015's views hide it, and cached facts end at the
 * earliest expiry they were built from): sweeping only tidies the stored tables and writes the
 * `expired` activity entry, one per grant, in the transaction that removes it.
 *
 * Two nodes sweeping at once: each removal is a DELETE (an UPDATE for a raise) that re-checks the
 * row under its lock, so a grant the other node removed first is not returned, and not logged, twice.
 */
import type { Database, Queryable } from '../../store/database.js';
import { recordActivity } from '../activity/activity.js';
import { periodic, type JobLog } from '../activity/activity-jobs.js';
import { systemActor } from '../actor.js';

interface Expired {
  id: string;
  organization_id: string;
  expires_at: Date;
  reason: string | null;
  email: string;
  user_uuid: string;
}

const ORG = '($1::uuid IS NULL OR p.organization_id = $1::uuid)';

/** How often each node sweeps (enforcement never waits for it: it only tidies and logs). */
export const SWEEP_INTERVAL_MS = 60_000;

/** The background job `serve` starts on every node (beside the activity log's jobs). */
export function startGrantSweeper(db: Database, log: JobLog, intervalMs = SWEEP_INTERVAL_MS): { stop(): Promise<void> } {
  return periodic(
    async () => void (await sweepExpiredGrants(db)),
    intervalMs,
    (err) => log.error({ err }, 'sweeping expired grants failed'),
    intervalMs,
  );
}

/** Sweeps every organization's expired grants (the background job); returns how many ended. */
export function sweepExpiredGrants(db: Database): Promise<number> {
  return db.transaction((tx) => sweepIn(tx, null));
}

/**
 * Sweeps one organization's expired grants in the caller's transaction: grant-creating functions
 * call it first, so that a new grant never meets an expired one still stored for the same target.
 */
export function sweepOrganization(tx: Queryable, organizationId: string): Promise<number> {
  return sweepIn(tx, organizationId);
}

async function sweepIn(tx: Queryable, organizationId: string | null): Promise<number> {
  const explicit = await tx.query<Expired & { level: number; project_id: number; project_name: string }>(
    `DELETE FROM explicit_project_memberships_stored e USING projects p, organization_memberships_stored m, users u
      WHERE e.expires_at <= now() AND p.id = e.project_id AND m.id = e.parent_membership_id AND u.id = m.user_id AND ${ORG}
      RETURNING e.id, e.level, e.expires_at, e.reason, p.id AS project_id, p.name AS project_name, p.organization_id, u.email, u.uuid::text AS user_uuid`,
    [organizationId],
  );
  for (const e of explicit) {
    await logExpiry(
      tx,
      e,
      'Organization',
      `${e.email} in ${e.project_name}`,
      { type: 'ExplicitTeamMembership', field: 'level', before: e.level, after: null },
      e.project_id,
      {
        project_id: e.project_id,
        project_name: e.project_name,
      },
    );
  }
  const roles = await tx.query<Expired & { role_id: string; role_name: string }>(
    `DELETE FROM role_memberships_stored rm USING roles p, organization_memberships_stored m, users u
      WHERE rm.expires_at <= now() AND p.id = rm.role_id AND m.id = rm.organization_member_id AND u.id = m.user_id AND ${ORG}
      RETURNING rm.id, rm.expires_at, rm.reason, p.id::text AS role_id, p.name AS role_name, p.organization_id, u.email, u.uuid::text AS user_uuid`,
    [organizationId],
  );
  for (const r of roles) {
    await logExpiry(
      tx,
      r,
      'Organization',
      `${r.email} no longer in role ${r.role_name}`,
      { type: 'RoleMembership', field: 'role', before: r.role_name, after: null },
      null,
      {
        role_id: r.role_id,
        role_name: r.role_name,
      },
    );
  }
  const rules = await tx.query<
    Omit<Expired, 'email' | 'user_uuid'> & {
      team_id: number;
      resource: string;
      resource_id: string | null;
      access_level: string;
      member: string | null;
      role: string | null;
    }
  >(
    `DELETE FROM access_controls_stored ac USING projects p
      WHERE ac.expires_at <= now() AND p.id = ac.team_id AND ${ORG}
      RETURNING ac.id, ac.expires_at, ac.reason, ac.team_id, ac.resource, ac.resource_id, ac.access_level,
                ac.organization_member_id::text AS member, ac.role_id::text AS role, p.organization_id`,
    [organizationId],
  );
  for (const r of rules) {
    const name = r.resource_id === null ? `${r.resource} (project-wide)` : `${r.resource} ${r.resource_id}`;
    await recordActivity(tx, {
      organizationId: r.organization_id,
      teamId: r.team_id,
      actor: systemActor,
      scope: 'AccessControl',
      activity: 'expired',
      itemId: r.id,
      detail: {
        name,
        changes: [{ type: 'AccessControl', action: 'deleted', field: 'access_level', before: r.access_level, after: null }],
        context: { resource: r.resource, resource_id: r.resource_id, member: r.member, role: r.role, expires_at: r.expires_at, reason: r.reason },
      },
    });
  }
  // A raise ends by falling back to the lasting level, kept in `level` all along.
  const raises = await tx.query<Expired & { level: number; raised_level: number }>(
    `UPDATE organization_memberships_stored s
        SET raised_level = NULL, level_expires_at = NULL, level_reason = NULL, updated_at = now()
       FROM (SELECT m.id, m.raised_level, m.level_expires_at, m.level_reason FROM organization_memberships_stored m
              WHERE m.level_expires_at <= now() AND ($1::uuid IS NULL OR m.organization_id = $1::uuid) FOR UPDATE) old, users u
      WHERE s.id = old.id AND u.id = s.user_id
      RETURNING s.id, s.organization_id, s.level, old.raised_level, old.level_expires_at AS expires_at, old.level_reason AS reason,
                u.email, u.uuid::text AS user_uuid`,
    [organizationId],
  );
  for (const r of raises) {
    await logExpiry(
      tx,
      r,
      'Organization',
      `${r.email}'s raised level ended`,
      { type: 'OrganizationMembership', field: 'level', before: r.raised_level, after: r.level },
      null,
      {},
    );
  }
  return explicit.length + roles.length + rules.length + raises.length;
}

function logExpiry(
  tx: Queryable,
  grant: Expired,
  scope: string,
  name: string,
  change: { type: string; field: string; before: unknown; after: unknown },
  teamId: number | null,
  context: Record<string, unknown>,
): Promise<void> {
  return recordActivity(tx, {
    organizationId: grant.organization_id,
    teamId,
    actor: systemActor,
    scope,
    activity: 'expired',
    itemId: grant.id,
    detail: {
      name,
      changes: [{ ...change, action: change.after === null ? 'deleted' : 'changed' }],
      context: { user_email: grant.email, user_uuid: grant.user_uuid, expires_at: grant.expires_at, reason: grant.reason, ...context },
    },
  });
}
