import { formatDuration, legacyActionOf, type ApprovalPolicyRecord } from '../../domain/access-control/approval-policies.js';
import { approvalsOf, isApprover, type ChangeRequestRecord, type GateOutcome } from '../../domain/access-control/change-requests.js';
import type { FeatureFlagRecord } from '../../domain/analytics/feature-flags.js';
import type { UserRecord } from '../../domain/records.js';
import type { ResourceActor } from '../../domain/access-control/resource-access.js';
import { findUserById } from '../../domain/identity/users.js';
import type { Queryable } from '../../store/database.js';
import { userBasic } from '../serializers.js';

async function usersById(q: Queryable, ids: readonly (number | null)[]): Promise<Map<number, UserRecord>> {
  const unique = [...new Set(ids.filter((id): id is number => id !== null))];
  const users = await Promise.all(unique.map((id) => findUserById(q, id)));
  return new Map(users.filter((u): u is UserRecord => u !== undefined).map((u) => [u.id, u]));
}

/**
 * Change requests in PostHog's shape (ChangeRequestSerializer: the request, its votes, and what the
 * viewer may do with it), with the first version's fields (`action`, `resource`, `requested_by`,
 * `decided_by`, `decided_at`, `reason`) kept beside them.
 */
export async function showChangeRequests(q: Queryable, viewer: ResourceActor, rows: readonly ChangeRequestRecord[]) {
  const approvals = await approvalsOf(
    q,
    rows.map((r) => r.id),
  );
  const users = await usersById(q, [...rows.flatMap((r) => [r.requested_by_id, r.decided_by_id, r.applied_by_id]), ...approvals.map((a) => a.user_id)]);
  const flagIds = rows.filter((r) => r.resource === 'feature_flag').map((r) => Number(r.resource_id));
  const flags =
    flagIds.length === 0
      ? []
      : await q.query<FeatureFlagRecord>('SELECT * FROM feature_flags WHERE team_id = $1 AND id = ANY($2::int[]) AND NOT deleted', [viewer.projectId, flagIds]);
  const flagById = new Map(flags.map((f) => [String(f.id), f]));
  const basic = (id: number | null) => {
    const user = id === null ? undefined : users.get(id);
    return user ? userBasic(user) : null;
  };
  return rows.map((r) => {
    const votes = approvals.filter((a) => a.change_request_id === r.id);
    const mine = votes.find((a) => a.user_id === viewer.userId);
    const isRequester = r.requested_by_id === viewer.userId;
    return {
      id: r.id,
      action_key: r.action,
      action_version: 1,
      resource_type: r.resource,
      resource_id: r.resource_id,
      intent: r.intent as unknown,
      intent_display: r.intent_display as unknown,
      policy_snapshot: r.policy_snapshot as unknown,
      validation_status: r.validation_status,
      validation_errors: null,
      validated_at: null,
      state: r.state,
      created_by: basic(r.requested_by_id),
      applied_by: basic(r.applied_by_id),
      created_at: r.created_at,
      updated_at: r.updated_at,
      expires_at: r.expires_at,
      applied_at: r.applied_at,
      apply_error: r.apply_error,
      result_data: null,
      approvals: votes.map((a) => ({ id: a.id, created_by: basic(a.user_id), decision: a.decision, reason: a.reason, created_at: a.created_at })),
      can_approve:
        r.state === 'pending' && !mine && (!isRequester || r.policy_snapshot.allow_self_approve) && isApprover(viewer, r, flagById.get(r.resource_id)),
      can_cancel: isRequester && r.state === 'pending',
      is_requester: isRequester,
      user_decision: mine?.decision ?? null,
      action: legacyActionOf(r.action),
      resource: r.resource,
      requested_by: basic(r.requested_by_id),
      decided_by: basic(r.decided_by_id),
      decided_at: r.decided_at,
      reason: r.reason,
    };
  });
}

export async function showChangeRequest(q: Queryable, viewer: ResourceActor, r: ChangeRequestRecord) {
  return (await showChangeRequests(q, viewer, [r]))[0]!;
}

/**
 * PostHog's answer to a gated change (409): `approval_required` with the new request, or
 * `change_request_pending` with the open one; in PostHog's error shape too (`type`, `code`,
 * `detail`, `attr`), so that clients which only read errors see what happened.
 */
export async function approvalRequired(q: Queryable, viewer: ResourceActor, outcome: Exclude<GateOutcome, { kind: 'pass' }>) {
  const shown = await showChangeRequest(q, viewer, outcome.request);
  const common = {
    type: 'invalid_request' as const,
    code: outcome.kind,
    detail: outcome.message,
    attr: null,
    resource_type: outcome.request.resource,
    resource_id: outcome.request.resource_id,
    change_request_id: outcome.request.id,
  };
  if (outcome.kind === 'change_request_pending') return { ...common, error: outcome.message, existing_change_request: shown };
  return { ...common, status: 'approval_required', message: outcome.message, change_request: shown, required_approvers: outcome.approvers };
}

/** A policy in PostHog's shape (ApprovalPolicySerializer), with Warden's fields and the first version's `action` and `role`. */
export function showApprovalPolicy(p: ApprovalPolicyRecord, creator: UserRecord | undefined) {
  return {
    id: p.id,
    action_key: p.action,
    conditions: p.conditions as unknown,
    approver_config: p.approver_config,
    allow_self_approve: p.allow_self_approve,
    bypass_org_membership_levels: p.bypass_org_membership_levels.map(String),
    bypass_roles: p.bypass_roles,
    expires_after: formatDuration(p.expires_after_seconds),
    enabled: p.enabled,
    created_by: creator ? userBasic(creator) : null,
    created_at: p.created_at,
    updated_at: p.updated_at,
    team_id: p.team_id,
    role: p.role_id,
    bypass_object_managers: p.bypass_object_managers,
    action: legacyActionOf(p.action),
    created_by_id: p.created_by_id,
  };
}

export async function showApprovalPolicies(q: Queryable, policies: readonly ApprovalPolicyRecord[]) {
  const users = await usersById(
    q,
    policies.map((p) => p.created_by_id),
  );
  return policies.map((p) => showApprovalPolicy(p, p.created_by_id === null ? undefined : users.get(p.created_by_id)));
}
