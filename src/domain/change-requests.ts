import { organizationIdOf } from './projects.js';
import type { AccessLevel } from '../access/resources.js';
import { highestAccessLevel, type AccessControlResource } from '../access/resources.js';
import { OrganizationLevel } from '../access/levels.js';
import { OWN_CHANGE_REQUEST, POLICY_NEEDS_ADMIN } from '../access/messages.js';
import type { Queryable } from '../store/database.js';
import { qb, row, rows, sql, type Narrow, type Query, type Selectable } from '../store/query-builder.js';
import type { DB } from '../store/schema.js';
import { recordActivity } from './activity.js';
import type { Actor } from './actor.js';
import { notFound, permissionDenied, validation } from './errors.js';
import { deleteFeatureFlag } from './feature-flags.js';
import { accessLevel, requireAccess, type ResourceActor } from './resource-access.js';
import { isUuid } from './users.js';

/**
 * Approvals (the source document's "Require admin approval for flag deletion"): where a project's
 * approval policy covers an action, people without manager access on the object do not perform it;
 * they file a change request, and someone with manager access (organization admins always have it)
 * approves or rejects it. Only an approval performs the action. Requests, approvals and rejections
 * are logged (scope ChangeRequest); the action itself is logged by the code that performs it.
 */
interface ApprovableAction {
  resource: AccessControlResource;
  table: string;
  /** Performs the action once approved (or directly, when no approval is needed). */
  perform: (tx: Queryable, actor: Actor, projectId: number, resourceId: string) => Promise<void>;
}

export const APPROVABLE_ACTIONS: Readonly<Record<string, ApprovableAction>> = {
  delete_feature_flag: {
    resource: 'feature_flag',
    table: 'feature_flags',
    perform: (tx, actor, projectId, resourceId) => deleteFeatureFlag(tx, actor, projectId, Number(resourceId)),
  },
};
export type ApprovableActionName = keyof typeof APPROVABLE_ACTIONS;

/** state: the migration's CHECK allows these three. */
export type ChangeRequestRecord = Narrow<Selectable<DB['change_requests']>, { state: 'pending' | 'approved' | 'rejected' }>;

export type ApprovalPolicyRecord = Selectable<DB['approval_policies']>;

function actionOf(name: string): ApprovableAction {
  const action = APPROVABLE_ACTIONS[name];
  if (!action) throw validation(`"${name}" is not a valid choice.`, 'action', 'invalid_choice');
  return action;
}

/** Does the actor, at `level` on the object, need an approval for `action` in this project? */
export async function needsApproval(q: Queryable, actor: ResourceActor, action: string, level: AccessLevel): Promise<boolean> {
  if (level === highestAccessLevel(actionOf(action).resource)) return false;
  const rows = await q.query(
    `SELECT 1 FROM approval_policies WHERE team_id = $1 AND action = $2 AND (role_id IS NULL OR role_id::text = ANY($3::text[])) LIMIT 1`,
    [actor.projectId, action, actor.roleIds],
  );
  return rows.length > 0;
}

async function findObject(q: Queryable, action: ApprovableAction, projectId: number, resourceId: string) {
  const [row] = await q.query<{ id: number; created_by_id: number | null }>(
    `SELECT id, created_by_id FROM ${action.table} WHERE team_id = $1 AND id = $2 AND NOT deleted`,
    [projectId, Number(resourceId)],
  );
  return row;
}

/**
 * Performs `action` on the object, or files a change request when the project's policy asks for
 * an approval from this actor. The actor must at least be allowed to write the object.
 */
export async function performOrRequest(
  tx: Queryable,
  actor: Actor,
  resourceActor: ResourceActor,
  actionName: ApprovableActionName,
  object: { id: number; created_by_id: number | null },
): Promise<{ performed: true } | { performed: false; changeRequest: ChangeRequestRecord }> {
  const action = actionOf(actionName);
  const level = await requireAccess(resourceActor, action.resource, 'write', object);
  if (!(await needsApproval(tx, resourceActor, actionName, level))) {
    await action.perform(tx, actor, resourceActor.projectId, String(object.id));
    return { performed: true };
  }
  const existing = await requestRow(
    tx,
    qb
      .selectFrom('change_requests')
      .selectAll()
      .where('team_id', '=', resourceActor.projectId)
      .where('action', '=', actionName)
      .where('resource_id', '=', String(object.id))
      .where('state', '=', sql.lit('pending')),
  );
  if (existing) return { performed: false, changeRequest: existing };
  const [created] = await tx.query<ChangeRequestRecord>(
    `INSERT INTO change_requests (team_id, action, resource, resource_id, requested_by_id)
     VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [resourceActor.projectId, actionName, action.resource, String(object.id), actor.userId],
  );
  await logChangeRequest(tx, actor, created!, 'created');
  return { performed: false, changeRequest: created! };
}


/** A change request read through Kysely: its state as the migration's CHECK allows it. */
const requestRow = async (q: Queryable, query: Query<Selectable<DB['change_requests']>>) => (await row(q, query)) as ChangeRequestRecord | undefined;

async function logChangeRequest(tx: Queryable, actor: Actor, request: ChangeRequestRecord, activity: string): Promise<void> {
  await recordActivity(tx, {
    organizationId: await organizationIdOf(tx, request.team_id),
    teamId: request.team_id,
    actor,
    scope: 'ChangeRequest',
    activity,
    itemId: request.id,
    detail: {
      name: `${request.action} ${request.resource_id}`,
      changes: [{ type: 'ChangeRequest', action: activity === 'created' ? 'created' : 'changed', field: 'state', before: activity === 'created' ? null : 'pending', after: request.state }],
      context: { action: request.action, resource: request.resource, resource_id: request.resource_id, requested_by_id: request.requested_by_id, reason: request.reason },
    },
  });
}

export async function listChangeRequests(q: Queryable, projectId: number, state?: string): Promise<ChangeRequestRecord[]> {
  const wanted = state ?? null;
  const found = await rows(
    q,
    qb
      .selectFrom('change_requests')
      .selectAll()
      .where('team_id', '=', projectId)
      .where(sql<boolean>`(${wanted}::text IS NULL OR state = ${wanted})`)
      .orderBy('created_at', 'desc')
      .orderBy('id'),
  );
  return found as ChangeRequestRecord[];
}

export async function getChangeRequest(q: Queryable, projectId: number, id: string, lock = false): Promise<ChangeRequestRecord> {
  const query = qb.selectFrom('change_requests').selectAll().where('team_id', '=', projectId).where('id', '=', id);
  const request = isUuid(id) ? await requestRow(q, lock ? query.forUpdate() : query) : undefined;
  if (!request) throw notFound();
  return request;
}

/** Approves (performing the action) or rejects a pending request. Approvers need manager access, and are not the requester. */
export async function decideChangeRequest(
  tx: Queryable,
  actor: Actor & { userId: number },
  resourceActor: ResourceActor,
  id: string,
  decision: 'approved' | 'rejected',
  reason: string | null,
): Promise<ChangeRequestRecord> {
  const request = await getChangeRequest(tx, resourceActor.projectId, id, true);
  if (request.state !== 'pending') throw validation(`This change request has already been ${request.state}.`, null, 'already_decided');
  if (request.requested_by_id === actor.userId) throw permissionDenied(OWN_CHANGE_REQUEST);
  const action = actionOf(request.action);
  const object = await findObject(tx, action, request.team_id, request.resource_id);
  const highest = highestAccessLevel(action.resource);
  const level = object ? (await accessLevel(resourceActor, action.resource, object)).level : resourceActor.organizationLevel >= OrganizationLevel.ADMIN ? highest : 'none';
  if (level !== highest) throw permissionDenied(`Must be ${highest} to approve or reject this change request.`);
  if (decision === 'approved') {
    if (!object) throw validation('The object of this change request no longer exists.', null, 'gone');
    await action.perform(tx, actor, request.team_id, request.resource_id);
  }
  const [decided] = await tx.query<ChangeRequestRecord>(
    `UPDATE change_requests SET state = $2, decided_by_id = $3, decided_at = now(), reason = COALESCE($4, reason) WHERE id = $1 RETURNING *`,
    [request.id, decision, actor.userId, reason],
  );
  await logChangeRequest(tx, actor, decided!, decision);
  return decided!;
}

export async function listApprovalPolicies(q: Queryable, projectId: number): Promise<ApprovalPolicyRecord[]> {
  return rows(q, qb.selectFrom('approval_policies').selectAll().where('team_id', '=', projectId).orderBy('created_at').orderBy('id'));
}

export async function createApprovalPolicy(
  tx: Queryable,
  actor: Actor,
  resourceActor: ResourceActor,
  input: { action: string; role?: string | null },
): Promise<ApprovalPolicyRecord> {
  if (resourceActor.organizationLevel < OrganizationLevel.ADMIN) throw permissionDenied(POLICY_NEEDS_ADMIN);
  actionOf(input.action);
  const roleId = input.role ?? null;
  if (roleId !== null) {
    const role = isUuid(roleId)
      ? await tx.query('SELECT 1 FROM roles r JOIN projects p ON p.organization_id = r.organization_id WHERE r.id = $1 AND p.id = $2', [roleId, resourceActor.projectId])
      : [];
    if (role.length === 0) throw validation('Role does not exist.', 'role');
  }
  const existing = await row(
    tx,
    qb
      .selectFrom('approval_policies')
      .selectAll()
      .where('team_id', '=', resourceActor.projectId)
      .where('action', '=', input.action)
      .where('role_id', 'is not distinct from', sql<string | null>`${roleId}::uuid`),
  );
  if (existing) return existing;
  const [policy] = await tx.query<ApprovalPolicyRecord>(
    'INSERT INTO approval_policies (team_id, action, role_id, created_by_id) VALUES ($1, $2, $3, $4) RETURNING *',
    [resourceActor.projectId, input.action, roleId, actor.userId],
  );
  await logPolicy(tx, actor, policy!, 'created');
  return policy!;
}

export async function deleteApprovalPolicy(tx: Queryable, actor: Actor, resourceActor: ResourceActor, id: string): Promise<void> {
  if (resourceActor.organizationLevel < OrganizationLevel.ADMIN) throw permissionDenied(POLICY_NEEDS_ADMIN);
  const policy = isUuid(id)
    ? await row(tx, qb.selectFrom('approval_policies').selectAll().where('id', '=', id).where('team_id', '=', resourceActor.projectId))
    : undefined;
  if (!policy) throw notFound();
  await tx.query('DELETE FROM approval_policies WHERE id = $1', [id]);
  await logPolicy(tx, actor, policy, 'deleted');
}

async function logPolicy(tx: Queryable, actor: Actor, policy: ApprovalPolicyRecord, activity: 'created' | 'deleted'): Promise<void> {
  await recordActivity(tx, {
    organizationId: await organizationIdOf(tx, policy.team_id),
    teamId: policy.team_id,
    actor,
    scope: 'ApprovalPolicy',
    activity,
    itemId: policy.id,
    detail: {
      name: policy.action,
      changes: [{ type: 'ApprovalPolicy', action: activity }],
      context: { action: policy.action, role_id: policy.role_id },
    },
  });
}
