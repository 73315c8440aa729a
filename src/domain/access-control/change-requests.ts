import { NOT_AN_APPROVER, OWN_CHANGE_REQUEST } from '../../access/messages.js';
import { highestAccessLevel } from '../../access/resources.js';
import type { Queryable } from '../../store/database.js';
import type { Narrow, Selectable } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';
import { recordActivity } from '../activity/activity.js';
import { systemActor, userActor, type Actor } from '../actor.js';
import { ACTION_KEYS, policiesFor, legacyActionOf, type ActionKey, type ApprovalPolicyRecord, type ApproverConfig } from './approval-policies.js';
import { notFound, permissionDenied, validation } from '../errors.js';
import type { FeatureFlagRecord } from '../analytics/feature-flags.js';
import {
  applyFlagChange,
  classifyFlagChange,
  conditionsMatch,
  currentFlag,
  describeFlagChange,
  isStale,
  type FlagChange,
  type FlagIntent,
} from './flag-approvals.js';
import { organizationIdOf } from '../organizations/projects.js';
import { accessLevel, requireAccess, type ResourceActor } from './resource-access.js';
import { isUuid } from '../identity/users.js';

/**
 * Change requests (PostHog's ChangeRequest, posthog/approvals): a flag change that an approval
 * policy covers is held instead of made; approvers vote, and when the quorum approves, the change
 * is applied in the same transaction as the last vote, as the requester, with the approvers in the
 * activity entry's context. One rejection rejects it; the requester may cancel it; it expires after
 * its policy's time; and it is never applied to a flag that changed since it was asked (stale).
 * Every change of state is logged (scope ChangeRequest) in the transaction that makes it.
 */
export type ChangeRequestState = 'pending' | 'approved' | 'applied' | 'rejected' | 'expired' | 'failed';
export const CHANGE_REQUEST_STATES: readonly ChangeRequestState[] = ['pending', 'approved', 'applied', 'rejected', 'expired', 'failed'];

export interface PolicySnapshot extends ApproverConfig {
  allow_self_approve: boolean;
  conditions: unknown;
  bypass_org_membership_levels: number[];
  bypass_roles: string[];
  policy_id?: string;
}

/** A change request row; its JSON columns and states narrowed to what this module writes (src/store/schema.ts). */
export type ChangeRequestRecord = Narrow<
  Selectable<DB['change_requests']>,
  {
    state: ChangeRequestState;
    intent: FlagIntent | Record<string, never>;
    intent_display: Record<string, unknown>;
    policy_snapshot: PolicySnapshot;
    validation_status: 'valid' | 'invalid' | 'expired' | 'stale';
  }
>;

export type ApprovalRecord = Narrow<Selectable<DB['change_request_approvals']>, { decision: 'approved' | 'rejected' }>;

export type GateOutcome =
  | { kind: 'pass' }
  | { kind: 'approval_required' | 'change_request_pending'; request: ChangeRequestRecord; message: string; approvers: ApproverConfig };

async function log(
  tx: Queryable,
  actor: Actor,
  request: ChangeRequestRecord,
  activity: string,
  before: string | null,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await recordActivity(tx, {
    organizationId: request.organization_id,
    teamId: request.team_id,
    actor,
    scope: 'ChangeRequest',
    activity,
    itemId: request.id,
    detail: {
      name: `${request.action} ${request.resource_id}`,
      changes: [{ type: 'ChangeRequest', action: before === null ? 'created' : 'changed', field: 'state', before, after: request.state }],
      context: {
        action_key: request.action,
        resource_type: request.resource,
        resource_id: request.resource_id,
        requested_by_id: request.requested_by_id,
        ...extra,
      },
    },
  });
}

/** Marks the project's pending requests whose time is up as expired (each logged, by the system). */
export async function expireDue(tx: Queryable, projectId: number): Promise<void> {
  const expired = await tx.query<ChangeRequestRecord>(
    `UPDATE change_requests SET state = 'expired', validation_status = 'expired', updated_at = now()
      WHERE team_id = $1 AND state = 'pending' AND expires_at <= now() RETURNING *`,
    [projectId],
  );
  for (const r of expired) await log(tx, systemActor, r, 'expired', 'pending');
}

function bypasses(actor: ResourceActor, policy: ApprovalPolicyRecord, flag: FeatureFlagRecord): boolean {
  if (policy.bypass_org_membership_levels.includes(actor.organizationLevel)) return true;
  if (policy.bypass_roles.some((r) => actor.roleIds.includes(r))) return true;
  return policy.bypass_object_managers && accessLevel(actor, 'feature_flag', flag).level === highestAccessLevel('feature_flag');
}

/**
 * Tags decide which flags a policy holds, so taking a tag off a flag may not take it out of a policy
 * that holds the caller (removing the tag, then deleting, would go round the approval). Only someone
 * that policy does not hold (its bypass) removes such a tag; adding tags is free.
 */
async function refuseTagEscape(tx: Queryable, resourceActor: ResourceActor, flag: FeatureFlagRecord, change: FlagChange): Promise<void> {
  if (change.patch.tags === undefined) return;
  const kept = new Set(change.patch.tags.map((t) => t.trim()));
  const removed = flag.tags.filter((t) => !kept.has(t));
  if (removed.length === 0) return;
  const organizationId = await organizationIdOf(tx, resourceActor.projectId);
  for (const action of ACTION_KEYS) {
    for (const policy of await policiesFor(tx, resourceActor.projectId, organizationId, action)) {
      const tag = removed.find((t) => (policy.conditions.flag_tags ?? []).includes(t));
      if (tag === undefined || (policy.role_id !== null && !resourceActor.roleIds.includes(policy.role_id))) continue;
      if (bypasses(resourceActor, policy, flag)) continue;
      throw permissionDenied(`The tag "${tag}" puts this flag under an approval policy (${action}): only someone that policy does not hold may remove it.`);
    }
  }
}

/**
 * The approval gate of a flag PATCH or DELETE (the route has checked that the caller may write the
 * flag, and locked it): passes the change through, or holds it as a new change request, or names
 * the open request that already holds a change of this flag. A change that two policies cover is
 * refused (PostHog's policy_conflict): its parts are asked for one at a time.
 */
export async function gateFlagChange(
  tx: Queryable,
  actor: Actor,
  resourceActor: ResourceActor,
  flag: FeatureFlagRecord,
  change: FlagChange,
): Promise<GateOutcome> {
  const { actions, intent } = classifyFlagChange(flag, change);
  await refuseTagEscape(tx, resourceActor, flag, change);
  if (actions.length === 0) return { kind: 'pass' };
  const organizationId = await organizationIdOf(tx, resourceActor.projectId);
  const gated: { action: ActionKey; policy: ApprovalPolicyRecord }[] = [];
  for (const action of actions) {
    const policy = (await policiesFor(tx, resourceActor.projectId, organizationId, action)).find(
      (p) => (p.role_id === null || resourceActor.roleIds.includes(p.role_id)) && conditionsMatch(p.conditions, resourceActor.projectId, flag, action, intent),
    );
    if (policy && !bypasses(resourceActor, policy, flag)) gated.push({ action, policy });
  }
  if (gated.length === 0) return { kind: 'pass' };
  if (new Set(gated.map((g) => g.policy.id)).size > 1) {
    throw validation(
      'This change matches multiple approval policies. Split your changes into separate API calls to address each policy independently.',
      null,
      'policy_conflict',
    );
  }
  await expireDue(tx, resourceActor.projectId);
  const [open] = await tx.query<ChangeRequestRecord>(
    `SELECT * FROM change_requests WHERE team_id = $1 AND resource = 'feature_flag' AND resource_id = $2 AND state IN ('pending', 'approved')`,
    [resourceActor.projectId, String(flag.id)],
  );
  const { action, policy } = gated[0]!;
  if (open)
    return {
      kind: 'change_request_pending',
      request: open,
      message: 'A pending approval request already exists for this action',
      approvers: open.policy_snapshot,
    };
  const snapshot: PolicySnapshot = {
    ...policy.approver_config,
    allow_self_approve: policy.allow_self_approve,
    conditions: policy.conditions,
    bypass_org_membership_levels: policy.bypass_org_membership_levels,
    bypass_roles: policy.bypass_roles,
    policy_id: policy.id,
  };
  const [created] = await tx.query<ChangeRequestRecord>(
    `INSERT INTO change_requests (organization_id, team_id, action, resource, resource_id, requested_by_id, policy_id, intent, intent_display, policy_snapshot, expires_at)
     VALUES ($1, $2, $3, 'feature_flag', $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, now() + make_interval(secs => $10)) RETURNING *`,
    [
      organizationId,
      resourceActor.projectId,
      action,
      String(flag.id),
      actor.userId,
      policy.id,
      JSON.stringify(intent),
      JSON.stringify(describeFlagChange(action, intent)),
      JSON.stringify(snapshot),
      policy.expires_after_seconds,
    ],
  );
  await log(tx, actor, created!, 'created', null);
  const named = snapshot.users.includes(actor.userId ?? -1) || snapshot.roles.some((r) => resourceActor.roleIds.includes(r));
  const message =
    named && !policy.allow_self_approve
      ? 'A change request has been created and is pending approval from others.'
      : 'A change request has been created and is pending approval.';
  return { kind: 'approval_required', request: created!, message, approvers: policy.approver_config };
}

export interface ChangeRequestFilters {
  state?: ChangeRequestState[];
  action_key?: string;
  requester?: number;
  resource_type?: string;
  resource_id?: string;
}

/** The project's requests, newest first (the expired ones marked first). */
export async function listChangeRequests(tx: Queryable, projectId: number, filters: ChangeRequestFilters = {}): Promise<ChangeRequestRecord[]> {
  await expireDue(tx, projectId);
  const action = filters.action_key === 'delete_feature_flag' ? 'feature_flag.delete' : filters.action_key;
  return tx.query<ChangeRequestRecord>(
    `SELECT * FROM change_requests WHERE team_id = $1 AND ($2::text[] IS NULL OR state = ANY($2::text[])) AND ($3::text IS NULL OR action = $3)
        AND ($4::int IS NULL OR requested_by_id = $4) AND ($5::text IS NULL OR resource = $5) AND ($6::text IS NULL OR resource_id = $6)
      ORDER BY created_at DESC, id`,
    [projectId, filters.state ?? null, action ?? null, filters.requester ?? null, filters.resource_type ?? null, filters.resource_id ?? null],
  );
}

export async function getChangeRequest(q: Queryable, projectId: number, id: string, lock = false): Promise<ChangeRequestRecord> {
  const [row] = isUuid(id)
    ? await q.query<ChangeRequestRecord>(`SELECT * FROM change_requests WHERE team_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`, [projectId, id])
    : [];
  if (!row) throw notFound();
  return row;
}

export async function approvalsOf(q: Queryable, ids: readonly string[]): Promise<ApprovalRecord[]> {
  if (ids.length === 0) return [];
  return q.query<ApprovalRecord>('SELECT * FROM change_request_approvals WHERE change_request_id = ANY($1::uuid[]) ORDER BY created_at, id', [ids]);
}

/** Whether `actor` is one of the request's approvers (its named users and roles; with none named, the flag's managers). */
export function isApprover(actor: ResourceActor, request: ChangeRequestRecord, flag: FeatureFlagRecord | undefined): boolean {
  const { users, roles } = request.policy_snapshot;
  if (users.length > 0 || roles.length > 0) return users.includes(actor.userId) || roles.some((r) => actor.roleIds.includes(r));
  return flag !== undefined && accessLevel(actor, 'feature_flag', flag).level === highestAccessLevel('feature_flag');
}

async function pendingForDecision(tx: Queryable, resourceActor: ResourceActor, id: string, verb: string): Promise<ChangeRequestRecord> {
  await expireDue(tx, resourceActor.projectId);
  const request = await getChangeRequest(tx, resourceActor.projectId, id, true);
  if (request.state === 'expired') throw validation('This change request has expired.', null, 'expired');
  if (request.state !== 'pending') throw validation(`This change request can no longer be ${verb}.`, null, 'invalid_state');
  return request;
}

export interface DecisionResult {
  status: 'approved' | 'applied' | 'rejected' | 'canceled';
  message: string;
  request: ChangeRequestRecord;
}

/**
 * One approver's vote. The voter must be one of the request's approvers, not its requester unless
 * the policy allows it, must not have voted, and must be allowed to make the change themselves
 * now (the grant ceiling: an approval never lets through what the approver could not do). An
 * approval of a stale request is refused; the quorum's last approval applies the change.
 */
export async function decideChangeRequest(
  tx: Queryable,
  actor: Actor & { userId: number },
  resourceActor: ResourceActor,
  id: string,
  decision: 'approved' | 'rejected',
  reason: string | null,
): Promise<DecisionResult> {
  const request = await pendingForDecision(tx, resourceActor, id, decision === 'approved' ? 'approved' : 'rejected');
  const snapshot = request.policy_snapshot;
  if (request.requested_by_id === actor.userId && !snapshot.allow_self_approve) throw permissionDenied(OWN_CHANGE_REQUEST);
  const flag = await currentFlag(tx, request.team_id, Number(request.resource_id));
  if (!isApprover(resourceActor, request, flag)) {
    const named = snapshot.users.length > 0 || snapshot.roles.length > 0;
    throw permissionDenied(named ? NOT_AN_APPROVER : `Must be ${highestAccessLevel('feature_flag')} to approve or reject this change request.`);
  }
  const [voted] = await tx.query('SELECT 1 FROM change_request_approvals WHERE change_request_id = $1 AND user_id = $2', [request.id, actor.userId]);
  if (voted) throw validation('You have already voted on this change request.', null, 'already_voted');
  if (decision === 'approved') {
    if (flag) requireAccess(resourceActor, 'feature_flag', 'write', flag);
    if (isStale(flag, request.intent as FlagIntent)) {
      throw validation('The feature flag has changed since this change request was made, so it cannot be applied. Reject it and ask again.', null, 'stale');
    }
  }
  await tx.query('INSERT INTO change_request_approvals (change_request_id, user_id, decision, reason) VALUES ($1, $2, $3, $4)', [
    request.id,
    actor.userId,
    decision,
    reason ?? '',
  ]);
  if (decision === 'rejected') {
    const [rejected] = await tx.query<ChangeRequestRecord>(
      `UPDATE change_requests SET state = 'rejected', decided_by_id = $2, decided_at = now(), reason = $3, updated_at = now() WHERE id = $1 RETURNING *`,
      [request.id, actor.userId, reason],
    );
    await log(tx, actor, rejected!, 'rejected', 'pending', { reason });
    return { status: 'rejected', message: 'Change request rejected.', request: rejected! };
  }
  const approvals = await approvalsOf(tx, [request.id]);
  const approvedBy = approvals.filter((a) => a.decision === 'approved').map((a) => a.user_id);
  if (approvedBy.length < snapshot.quorum) {
    const [touched] = await tx.query<ChangeRequestRecord>('UPDATE change_requests SET updated_at = now() WHERE id = $1 RETURNING *', [request.id]);
    await log(tx, actor, touched!, 'approved', 'pending', { reason, approvals: approvedBy.length, quorum: snapshot.quorum });
    return { status: 'approved', message: `Approval recorded (${approvedBy.length} of ${snapshot.quorum}).`, request: touched! };
  }
  // The change is the requester's; the approvers are named in every entry it writes.
  const context = { change_request_id: request.id, approved_by: approvedBy };
  const requester: Actor = request.requested_by_id === null ? { ...systemActor, batch: context } : { ...userActor(request.requested_by_id), batch: context };
  await applyFlagChange(tx, requester, request.team_id, request.intent as FlagIntent);
  const [applied] = await tx.query<ChangeRequestRecord>(
    `UPDATE change_requests SET state = 'applied', applied_at = now(), applied_by_id = $2, decided_by_id = $2, decided_at = now(), reason = $3, updated_at = now()
      WHERE id = $1 RETURNING *`,
    [request.id, actor.userId, reason],
  );
  await log(tx, actor, applied!, 'approved', 'pending', { reason, approvals: approvedBy.length, quorum: snapshot.quorum });
  await log(tx, actor, applied!, 'applied', 'pending', { approved_by: approvedBy });
  return { status: 'applied', message: 'Change request approved and applied.', request: applied! };
}

/** The requester withdraws a pending request (PostHog's cancel; the request ends rejected). */
export async function cancelChangeRequest(
  tx: Queryable,
  actor: Actor & { userId: number },
  resourceActor: ResourceActor,
  id: string,
  reason: string | null,
): Promise<DecisionResult> {
  const request = await pendingForDecision(tx, resourceActor, id, 'canceled');
  if (request.requested_by_id !== actor.userId) throw permissionDenied('Only the requester can cancel this change request.');
  const [canceled] = await tx.query<ChangeRequestRecord>(
    `UPDATE change_requests SET state = 'rejected', decided_by_id = $2, decided_at = now(), reason = $3, updated_at = now() WHERE id = $1 RETURNING *`,
    [request.id, actor.userId, reason ?? 'Canceled by requester'],
  );
  await log(tx, actor, canceled!, 'canceled', 'pending', { reason: canceled!.reason });
  return { status: 'canceled', message: 'Change request canceled.', request: canceled! };
}

export { legacyActionOf };
