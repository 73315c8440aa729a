import { POLICY_NEEDS_ADMIN } from '../../access/messages.js';
import { ORGANIZATION_LEVELS, OrganizationLevel } from '../../access/levels.js';
import type { Queryable } from '../../store/database.js';
import { PgCode, pgErrorCode } from '../../store/database.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, permissionDenied, validation } from '../errors.js';
import { organizationIdOf } from '../organizations/projects.js';
import { isUuid } from '../identity/users.js';
import {
  ACTION_KEYS,
  CONDITION_TYPES,
  LEGACY_ACTIONS,
  OPERATORS,
  type ActionKey,
  type ApprovalPolicyRecord,
  type ApproverConfig,
  type PolicyCaller,
  type PolicyConditions,
  type PolicyInput,
} from './approval-policy-types.js';

export * from './approval-policy-types.js';

/**
 * Approval policies (PostHog's ApprovalPolicy, posthog/approvals): which flag changes need approval
 * in a project, or in every project of an organization (no team), and who approves them. A policy
 * names an action key, conditions on the change and the flag, named approvers (users and roles)
 * with a quorum, whether the requester may approve, who bypasses it, and how long its requests
 * wait. Warden adds `feature_flag.delete` (the source document's "require admin approval for flag
 * deletion"), `role` (the policy covers that role's members only) and `bypass_object_managers`.
 * Only organization admins change policies; every change is logged (scope ApprovalPolicy).
 */

/** Where a policy lives: a project, or the whole organization (no team). */
interface Scope {
  organizationId: string;
  teamId: number | null;
}

const DEFAULT_EXPIRY = 14 * 24 * 3600;
const SELECT = 'SELECT ap.*, ap.bypass_roles::text[] AS bypass_roles FROM approval_policies ap';

async function scopeOf(q: Queryable, caller: PolicyCaller): Promise<Scope> {
  if ('projectId' in caller) return { organizationId: await organizationIdOf(q, caller.projectId), teamId: caller.projectId };
  return { organizationId: caller.organizationId, teamId: null };
}

const inScope = (scope: Scope) => (scope.teamId === null ? 'ap.organization_id = $1 AND ap.team_id IS NULL' : 'ap.organization_id = $1 AND ap.team_id = $2');
const scopeParams = (scope: Scope) => (scope.teamId === null ? [scope.organizationId] : [scope.organizationId, scope.teamId]);

export async function listApprovalPolicies(
  q: Queryable,
  caller: PolicyCaller,
  filters: { action_key?: string; enabled?: boolean } = {},
): Promise<ApprovalPolicyRecord[]> {
  const scope = await scopeOf(q, caller);
  const params: unknown[] = scopeParams(scope);
  let where = inScope(scope);
  if (filters.action_key !== undefined) where += ` AND ap.action = $${params.push(LEGACY_ACTIONS[filters.action_key] ?? filters.action_key)}`;
  if (filters.enabled !== undefined) where += ` AND ap.enabled = $${params.push(filters.enabled)}`;
  return q.query<ApprovalPolicyRecord>(`${SELECT} WHERE ${where} ORDER BY ap.created_at DESC, ap.id`, params);
}

export async function getApprovalPolicy(q: Queryable, caller: PolicyCaller, id: string, lock = false): Promise<ApprovalPolicyRecord> {
  const scope = await scopeOf(q, caller);
  const params = scopeParams(scope);
  const [row] = isUuid(id)
    ? await q.query<ApprovalPolicyRecord>(`${SELECT} WHERE ${inScope(scope)} AND ap.id = $${params.length + 1}${lock ? ' FOR UPDATE' : ''}`, [...params, id])
    : [];
  if (!row) throw notFound();
  return row;
}

/** A policy's duration: seconds, or Django's duration text (`14 00:00:00`, `3:00:00`, `90`). */
export function parseDuration(raw: string | number): number {
  if (typeof raw === 'number') return raw;
  const m = /^(?:(\d{1,4}) )?(?:(?:(\d{1,2}):)?(\d{1,2}):)?(\d{1,7})(?:\.\d+)?$/.exec(raw.trim());
  if (!m) throw validation('Duration has wrong format. Use one of these formats instead: [DD] [HH:[MM:]]ss[.uuuuuu].', 'expires_after', 'invalid');
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4]);
}

/** Django's duration text for seconds, as PostHog's API writes `expires_after`. */
export function formatDuration(seconds: number): string {
  const days = Math.floor(seconds / 86400);
  const rest = seconds % 86400;
  const hms = [Math.floor(rest / 3600), Math.floor((rest % 3600) / 60), rest % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return days ? `${days} ${hms}` : hms;
}

async function rolesOfOrganization(q: Queryable, organizationId: string, ids: readonly string[]): Promise<Set<string>> {
  const valid = ids.filter(isUuid);
  if (valid.length === 0) return new Set();
  const rows = await q.query<{ id: string }>('SELECT id::text AS id FROM roles WHERE organization_id = $1 AND id = ANY($2::uuid[])', [organizationId, valid]);
  return new Set(rows.map((r) => r.id));
}

async function requireRoles(q: Queryable, organizationId: string, ids: readonly string[], attr: string): Promise<void> {
  const found = await rolesOfOrganization(q, organizationId, ids);
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) throw validation(`Roles do not exist: ${missing.join(', ')}`, attr, 'does_not_exist');
}

/**
 * The people who may approve under `config`: the named users and the members of the named roles
 * (members of the organization only); with no one named, the organization's admins and owners
 * (who have manager access on every flag) stand for "whoever manages the flag".
 */
export async function eligibleApprovers(q: Queryable, organizationId: string, config: Pick<ApproverConfig, 'users' | 'roles'>): Promise<number[]> {
  if (config.users.length === 0 && config.roles.length === 0) {
    const rows = await q.query<{ user_id: number }>('SELECT user_id FROM organization_memberships WHERE organization_id = $1 AND level >= $2', [
      organizationId,
      OrganizationLevel.ADMIN,
    ]);
    return rows.map((r) => r.user_id);
  }
  const rows = await q.query<{ user_id: number }>(
    `SELECT m.user_id FROM organization_memberships m WHERE m.organization_id = $1 AND m.user_id = ANY($2::int[])
     UNION
     SELECT m.user_id FROM role_memberships rm JOIN organization_memberships m ON m.id = rm.organization_member_id
      WHERE m.organization_id = $1 AND rm.role_id = ANY($3::uuid[])`,
    [organizationId, config.users, config.roles.filter(isUuid)],
  );
  return rows.map((r) => r.user_id);
}

async function checkApprovers(q: Queryable, organizationId: string, input: NonNullable<PolicyInput['approver_config']>): Promise<ApproverConfig> {
  const config = { quorum: input.quorum, users: [...new Set(input.users ?? [])], roles: [...new Set(input.roles ?? [])] };
  if (!Number.isInteger(config.quorum) || config.quorum < 1) throw validation('The quorum must be at least 1.', 'approver_config', 'invalid');
  if (config.users.length > 0) {
    const members = await q.query<{ user_id: number }>('SELECT user_id FROM organization_memberships WHERE organization_id = $1 AND user_id = ANY($2::int[])', [
      organizationId,
      config.users,
    ]);
    const known = new Set(members.map((m) => m.user_id));
    const unknown = config.users.filter((id) => !known.has(id));
    if (unknown.length > 0)
      throw validation(`Unknown approvers: users ${unknown.join(', ')} are not members of this organization.`, 'approver_config', 'unknown_approvers');
  }
  await requireRoles(q, organizationId, config.roles, 'approver_config');
  const eligible = (await eligibleApprovers(q, organizationId, config)).length;
  if (config.quorum > eligible) {
    throw validation(`The quorum (${config.quorum}) is larger than the number of eligible approvers (${eligible}).`, 'approver_config', 'quorum_too_large');
  }
  return config;
}

function checkConditions(raw: PolicyConditions): PolicyConditions {
  const c: PolicyConditions = {};
  if (raw.type !== undefined) {
    if (!CONDITION_TYPES.includes(raw.type)) throw validation(`"${raw.type}" is not a valid choice.`, 'conditions', 'invalid_choice');
    if (raw.field !== 'rollout_percentage') throw validation('Conditions on a change need "field": "rollout_percentage".', 'conditions', 'invalid');
    c.type = raw.type;
    c.field = raw.field;
    if (raw.type !== 'any_change') {
      if (raw.operator === undefined || !OPERATORS.includes(raw.operator) || typeof raw.value !== 'number') {
        throw validation(`A ${raw.type} condition needs an operator (${OPERATORS.join(' ')}) and a numeric value.`, 'conditions', 'invalid');
      }
      c.operator = raw.operator;
      c.value = raw.value;
    }
  }
  if (raw.flag_tags !== undefined) c.flag_tags = [...new Set(raw.flag_tags)];
  if (raw.project_ids !== undefined) c.project_ids = [...new Set(raw.project_ids)];
  return c;
}

async function checkProjects(q: Queryable, organizationId: string, ids: readonly number[] | undefined): Promise<void> {
  if (!ids || ids.length === 0) return;
  const rows = await q.query<{ id: number }>('SELECT id FROM projects WHERE organization_id = $1 AND id = ANY($2::int[])', [organizationId, ids]);
  const found = new Set(rows.map((r) => r.id));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) throw validation(`Projects do not exist: ${missing.join(', ')}`, 'conditions', 'does_not_exist');
}

function actionKeyOf(input: PolicyInput): ActionKey {
  const raw = input.action_key ?? input.action;
  const attr = input.action_key !== undefined ? 'action_key' : 'action';
  if (raw === undefined) throw validation('This field is required.', 'action_key', 'required');
  const key = LEGACY_ACTIONS[raw] ?? raw;
  if (!(ACTION_KEYS as readonly string[]).includes(key)) throw validation(`"${raw}" is not a valid choice.`, attr, 'invalid_choice');
  return key as ActionKey;
}

function requireAdmin(caller: PolicyCaller): void {
  if (caller.organizationLevel < OrganizationLevel.ADMIN) throw permissionDenied(POLICY_NEEDS_ADMIN);
}

/** The checked values of a policy: `base` (the policy being edited, or the defaults) with `input` over it. */
async function checked(
  q: Queryable,
  organizationId: string,
  base: Omit<ApprovalPolicyRecord, 'id' | 'organization_id' | 'team_id' | 'created_by_id' | 'created_at' | 'updated_at'>,
  input: PolicyInput,
) {
  const next = { ...base };
  if (input.role !== undefined) {
    if (input.role !== null && (await rolesOfOrganization(q, organizationId, [input.role])).size === 0) throw validation('Role does not exist.', 'role');
    next.role_id = input.role;
  }
  if (input.conditions !== undefined) next.conditions = checkConditions(input.conditions);
  await checkProjects(q, organizationId, next.conditions.project_ids);
  if (input.approver_config !== undefined || input.role !== undefined)
    next.approver_config = await checkApprovers(q, organizationId, input.approver_config ?? next.approver_config);
  if (input.allow_self_approve !== undefined) next.allow_self_approve = input.allow_self_approve;
  if (input.bypass_org_membership_levels !== undefined) {
    const bad = input.bypass_org_membership_levels.filter((l) => !(ORGANIZATION_LEVELS as readonly number[]).includes(l));
    if (bad.length > 0) throw validation(`"${bad[0]}" is not a valid choice.`, 'bypass_org_membership_levels', 'invalid_choice');
    next.bypass_org_membership_levels = [...new Set(input.bypass_org_membership_levels)];
  }
  if (input.bypass_roles !== undefined) {
    await requireRoles(q, organizationId, input.bypass_roles, 'bypass_roles');
    next.bypass_roles = [...new Set(input.bypass_roles)];
  }
  if (input.bypass_object_managers !== undefined) next.bypass_object_managers = input.bypass_object_managers;
  if (input.expires_after !== undefined) {
    const seconds = parseDuration(input.expires_after);
    if (seconds < 60 || seconds > 365 * 86400) throw validation('Requests must expire after between a minute and 365 days.', 'expires_after', 'invalid');
    next.expires_after_seconds = seconds;
  }
  if (input.enabled !== undefined) next.enabled = input.enabled;
  return next;
}

const DUPLICATE = 'A policy for this action already exists. You can edit the existing policy instead.';

export async function createApprovalPolicy(tx: Queryable, actor: Actor, caller: PolicyCaller, input: PolicyInput): Promise<ApprovalPolicyRecord> {
  requireAdmin(caller);
  const scope = await scopeOf(tx, caller);
  const action = actionKeyOf(input);
  // The first version's form (`action`) keeps its meaning: object managers delete without approval.
  const legacy = input.action_key === undefined;
  const values = await checked(
    tx,
    scope.organizationId,
    {
      action,
      role_id: null,
      conditions: {},
      approver_config: { quorum: 1, users: [], roles: [] },
      allow_self_approve: false,
      bypass_org_membership_levels: [],
      bypass_roles: [],
      bypass_object_managers: legacy,
      expires_after_seconds: DEFAULT_EXPIRY,
      enabled: true,
    },
    input,
  );
  const params = scopeParams(scope);
  const [existing] = await tx.query<ApprovalPolicyRecord>(
    `${SELECT} WHERE ${inScope(scope)} AND ap.action = $${params.length + 1} AND ap.role_id IS NOT DISTINCT FROM $${params.length + 2}::uuid`,
    [...params, action, values.role_id],
  );
  if (existing) {
    if (legacy) return existing;
    throw validation(DUPLICATE, null, 'unique');
  }
  const [policy] = await tx
    .query<{ id: string }>(
      `INSERT INTO approval_policies (organization_id, team_id, action, role_id, conditions, approver_config, allow_self_approve,
       bypass_org_membership_levels, bypass_roles, bypass_object_managers, expires_after_seconds, enabled, created_by_id)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8::int[], $9::uuid[], $10, $11, $12, $13) RETURNING id`,
      [
        scope.organizationId,
        scope.teamId,
        values.action,
        values.role_id,
        JSON.stringify(values.conditions),
        JSON.stringify(values.approver_config),
        values.allow_self_approve,
        values.bypass_org_membership_levels,
        values.bypass_roles,
        values.bypass_object_managers,
        values.expires_after_seconds,
        values.enabled,
        actor.userId,
      ],
    )
    .catch((e: unknown) => {
      if (pgErrorCode(e) === PgCode.uniqueViolation) throw validation(DUPLICATE, null, 'unique');
      throw e;
    });
  const created = await getApprovalPolicy(tx, caller, policy!.id);
  await logPolicy(tx, actor, created, 'created');
  return created;
}

export async function updateApprovalPolicy(tx: Queryable, actor: Actor, caller: PolicyCaller, id: string, input: PolicyInput): Promise<ApprovalPolicyRecord> {
  requireAdmin(caller);
  const before = await getApprovalPolicy(tx, caller, id, true);
  if (input.action_key !== undefined || input.action !== undefined) {
    if (actionKeyOf(input) !== before.action) throw validation('The action of a policy cannot change; make a new policy.', 'action_key', 'immutable');
  }
  const next = await checked(tx, before.organization_id, before, input);
  await tx
    .query(
      `UPDATE approval_policies SET role_id = $2, conditions = $3::jsonb, approver_config = $4::jsonb, allow_self_approve = $5,
       bypass_org_membership_levels = $6::int[], bypass_roles = $7::uuid[], bypass_object_managers = $8, expires_after_seconds = $9,
       enabled = $10, updated_at = now() WHERE id = $1`,
      [
        id,
        next.role_id,
        JSON.stringify(next.conditions),
        JSON.stringify(next.approver_config),
        next.allow_self_approve,
        next.bypass_org_membership_levels,
        next.bypass_roles,
        next.bypass_object_managers,
        next.expires_after_seconds,
        next.enabled,
      ],
    )
    .catch((e: unknown) => {
      if (pgErrorCode(e) === PgCode.uniqueViolation) throw validation(DUPLICATE, null, 'unique');
      throw e;
    });
  const after = await getApprovalPolicy(tx, caller, id);
  const fields = [
    'role_id',
    'conditions',
    'approver_config',
    'allow_self_approve',
    'bypass_org_membership_levels',
    'bypass_roles',
    'bypass_object_managers',
    'expires_after_seconds',
    'enabled',
  ] as const;
  const changes = fields
    .filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]))
    .map((field) => ({ type: 'ApprovalPolicy', action: 'changed', field, before: before[field], after: after[field] }));
  if (changes.length > 0) await logPolicy(tx, actor, after, 'updated', changes);
  return after;
}

export async function deleteApprovalPolicy(tx: Queryable, actor: Actor, caller: PolicyCaller, id: string): Promise<void> {
  requireAdmin(caller);
  const policy = await getApprovalPolicy(tx, caller, id, true);
  await tx.query('DELETE FROM approval_policies WHERE id = $1', [id]);
  await logPolicy(tx, actor, policy, 'deleted');
}

async function logPolicy(
  tx: Queryable,
  actor: Actor,
  policy: ApprovalPolicyRecord,
  activity: 'created' | 'updated' | 'deleted',
  changes?: unknown[],
): Promise<void> {
  await recordActivity(tx, {
    organizationId: policy.organization_id,
    teamId: policy.team_id,
    actor,
    scope: 'ApprovalPolicy',
    activity,
    itemId: policy.id,
    detail: {
      name: policy.action,
      changes: (changes ?? [{ type: 'ApprovalPolicy', action: activity }]) as never,
      context: { action: policy.action, role_id: policy.role_id, approver_config: policy.approver_config, conditions: policy.conditions },
    },
  });
}

/** The enabled policies for `action` that may cover a change in the project: the project's first, then the organization's. */
export async function policiesFor(q: Queryable, projectId: number, organizationId: string, action: ActionKey): Promise<ApprovalPolicyRecord[]> {
  return q.query<ApprovalPolicyRecord>(
    `${SELECT} WHERE ap.organization_id = $1 AND (ap.team_id = $2 OR ap.team_id IS NULL) AND ap.action = $3 AND ap.enabled
      ORDER BY ap.team_id IS NULL, ap.role_id IS NULL, ap.created_at, ap.id`,
    [organizationId, projectId, action],
  );
}
