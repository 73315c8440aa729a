/**
 * PostHog's access controls (ee/api/rbac/access_control.py): rows that give a member, a role or
 * everyone (the default row) a level on a project, on a resource type in a project (project-wide,
 * `resource_id` null) or on one object. PUT upserts a row, `access_level: null` deletes it; every
 * change writes an `AccessControl` activity entry in the same transaction.
 */
import { accessDeniedMessage, satisfies } from '../../access/access-control.js';
import { OrganizationLevel } from '../../access/levels.js';
import { PROJECT_WIDE_NEEDS_ORG_ADMIN } from '../../access/messages.js';
import { projectAccessLevelOf } from '../../access/project-access.js';
import {
  ACCESS_CONTROL_RESOURCES,
  accessLevelsFor,
  defaultAccessLevel,
  highestAccessLevel,
  minimumAccessLevel,
  RESOURCE_LEVELS,
  type AccessControlResource,
  type AccessLevel,
} from '../../access/resources.js';
import type { Queryable } from '../../store/database.js';
import { qb, row, rows, sql, type Narrow, type Selectable } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, permissionDenied, validation } from '../errors.js';
import { findProjectAccess, type ProjectAccess } from '../organizations/projects.js';
import { accessLevel, loadResourceActor } from './resource-access.js';
import { isUuid } from '../identity/users.js';
import { sweepOrganization } from './grant-expiry.js';
import { checkGrantTerms, LASTING, sameTerms, type GrantTerms } from './grant-terms.js';

/** access_level: written only from the access model's levels. */
export type AccessControlRecord = Narrow<Selectable<DB['access_controls']>, { access_level: AccessLevel }>;

/** Objects that carry their own access controls, by resource, with the path segment of their routes. */
export const OBJECT_RESOURCES = {
  feature_flag: { path: 'feature_flags', table: 'feature_flags', numericId: true },
  insight: { path: 'insights', table: 'insights', numericId: true },
  dashboard: { path: 'dashboards', table: 'dashboards', numericId: true },
  session_recording: { path: 'session_recordings', table: 'session_recordings', numericId: false },
} as const;
export type ObjectResource = keyof typeof OBJECT_RESOURCES;

export interface AccessObject {
  id: string;
  created_by_id: number | null;
}

/** What a request's access controls are about. */
export type AccessControlScope = { kind: 'project' } | { kind: 'resource' } | { kind: 'object'; resource: ObjectResource; objectId: string };

export const BOTH_MEMBER_AND_ROLE = 'You can not scope an access control to both a member and a role.';
const RESOURCE_ID_MAX = 36;

/** The project's object, or PostHog's 404 (unknown, deleted, another project's, or not an id at all). */
export async function findAccessObject(q: Queryable, projectId: number, resource: ObjectResource, idParam: string): Promise<AccessObject> {
  const spec = OBJECT_RESOURCES[resource];
  if (spec.numericId ? !/^\d{1,10}$/.test(idParam) || Number(idParam) > 2147483647 : idParam.length === 0 || idParam.length > 200) {
    throw notFound();
  }
  const creator = spec.table === 'session_recordings' ? 'NULL::integer' : 'created_by_id';
  const [row] = await q.query<AccessObject>(
    `SELECT id::text AS id, ${creator} AS created_by_id FROM ${spec.table} WHERE team_id = $1 AND id = $2 AND NOT deleted`,
    [projectId, spec.numericId ? Number(idParam) : idParam],
  );
  if (!row) throw notFound();
  return row;
}

interface Caller {
  project: ProjectAccess;
  userId: number;
  /** The caller's level on the object (object scope only). */
  objectLevel: AccessLevel | null;
  object: AccessObject | null;
}

async function loadCaller(q: Queryable, projectId: number, userId: number, scope: AccessControlScope): Promise<Caller> {
  const project = await findProjectAccess(q, projectId, userId);
  if (!project || project.organizationLevel === null) throw notFound('Project not found.');
  if (project.effectiveLevel === null) throw permissionDenied("You don't have access to the project.");
  if (scope.kind !== 'object') return { project, userId, objectLevel: null, object: null };
  const object = await findAccessObject(q, projectId, scope.resource, scope.objectId);
  const actor = await loadResourceActor(q, projectId, userId);
  if (!actor) throw notFound('Project not found.');
  const { level } = await accessLevel(actor, scope.resource, object);
  const caller: Caller = { project, userId, objectLevel: level, object };
  // Reading or changing an object's rules starts with seeing the object (PostHog's object
  // permission), unless the caller may change its rules anyway (a project admin ruled out of it).
  if (!satisfies(scope.resource, level, 'viewer') && !canModify(caller, scope)) throw permissionDenied(accessDeniedMessage('viewer'));
  return caller;
}

/** Creator, project admin, organization admin, or the highest level ("manager") on the object. */
function canModify(caller: Caller, scope: AccessControlScope): boolean {
  const organizationAdmin = (caller.project.organizationLevel ?? 0) >= OrganizationLevel.ADMIN;
  const projectAdmin = (caller.project.effectiveLevel ?? 0) >= OrganizationLevel.ADMIN;
  switch (scope.kind) {
    case 'resource':
      return organizationAdmin;
    case 'project':
      return projectAdmin || organizationAdmin;
    case 'object':
      return caller.object!.created_by_id === caller.userId || projectAdmin || organizationAdmin || caller.objectLevel === highestAccessLevel(scope.resource);
  }
}

function denial(scope: AccessControlScope): string {
  if (scope.kind === 'resource') return PROJECT_WIDE_NEEDS_ORG_ADMIN;
  const resource = scope.kind === 'project' ? 'project' : scope.resource;
  return `Must be ${highestAccessLevel(resource)} to modify ${resource} permissions.`;
}

function rulesQuery(projectId: number, scope: AccessControlScope) {
  const base = qb.selectFrom('access_controls').selectAll().where('team_id', '=', projectId);
  switch (scope.kind) {
    case 'project':
      return base.where('resource', '=', sql.lit('project')).where('resource_id', '=', String(projectId)).orderBy('created_at').orderBy('id');
    case 'resource':
      return base.where('resource_id', 'is', null).orderBy('resource').orderBy('created_at').orderBy('id');
    case 'object':
      return base.where('resource', '=', scope.resource).where('resource_id', '=', scope.objectId).orderBy('created_at').orderBy('id');
  }
}

export interface AccessControlsView {
  access_controls: AccessControlRecord[];
  available_access_levels: readonly AccessLevel[];
  default_access_level: AccessLevel;
  minimum_access_level: AccessLevel;
  maximum_access_level: AccessLevel;
  user_access_level: AccessLevel;
  user_can_edit_access_levels: boolean;
}

/** GET: the rules, the levels they can take, and what the caller has and may do. */
export async function accessControlsView(q: Queryable, projectId: number, userId: number, scope: AccessControlScope): Promise<AccessControlsView> {
  const caller = await loadCaller(q, projectId, userId, scope);
  const rules = (await rows(q, rulesQuery(projectId, scope))) as AccessControlRecord[];
  const resource: AccessControlResource = scope.kind === 'object' ? scope.resource : 'project';
  // Project-wide rules are configured in resource levels; the caller's level is the project's (as PostHog).
  const projectWide = scope.kind === 'resource';
  return {
    access_controls: rules,
    available_access_levels: projectWide ? RESOURCE_LEVELS : accessLevelsFor(resource),
    default_access_level: projectWide ? 'editor' : defaultAccessLevel(resource),
    minimum_access_level: projectWide ? 'none' : minimumAccessLevel(resource),
    maximum_access_level: projectWide ? 'manager' : highestAccessLevel(resource),
    user_access_level: caller.objectLevel ?? projectAccessLevelOf(caller.project.effectiveLevel),
    user_can_edit_access_levels: canModify(caller, scope),
  };
}

export interface AccessControlInput {
  access_level: string | null;
  organization_member?: string | null;
  role?: string | null;
  resource?: string;
}

const isAccessControlResource = (value: string): value is (typeof ACCESS_CONTROL_RESOURCES)[number] =>
  (ACCESS_CONTROL_RESOURCES as readonly string[]).includes(value);

function resourceOf(scope: AccessControlScope, input: AccessControlInput): AccessControlResource {
  if (scope.kind === 'project') return 'project';
  if (scope.kind === 'object') return scope.resource;
  if (input.resource === undefined) throw validation('This field is required.', 'resource', 'required');
  if (!isAccessControlResource(input.resource)) {
    throw validation(`Invalid resource. Must be one of: ${ACCESS_CONTROL_RESOURCES.join(', ')}`, 'resource');
  }
  return input.resource;
}

function validateLevel(resource: AccessControlResource, level: string | null): AccessLevel | null {
  if (level === null) return null;
  const levels = accessLevelsFor(resource);
  if (!(levels as readonly string[]).includes(level)) {
    throw validation(`Invalid access level. Must be one of: ${levels.join(', ')}`, 'access_level');
  }
  const minimum = minimumAccessLevel(resource);
  if (levels.indexOf(level as AccessLevel) < levels.indexOf(minimum)) {
    throw validation(`Access level cannot be set below the minimum '${minimum}' for ${resource}.`, 'access_level');
  }
  return level as AccessLevel;
}

interface Target {
  memberId: string | null;
  memberEmail: string | null;
  roleId: string | null;
  roleName: string | null;
}

/** The member and role a rule names: both must belong to the project's organization. */
async function resolveTarget(tx: Queryable, organizationId: string, input: AccessControlInput): Promise<Target> {
  const member = input.organization_member || null;
  const role = input.role || null;
  const target: Target = { memberId: null, memberEmail: null, roleId: null, roleName: null };
  if (member !== null) {
    if (!isUuid(member)) {
      throw validation(
        "Invalid organization member id. Use the 'id' field from the /api/organizations/<organization_id>/members/ endpoint.",
        'organization_member',
      );
    }
    const [row] = await tx.query<{ id: string; email: string }>(
      `SELECT m.id::text AS id, u.email FROM organization_memberships m JOIN users u ON u.id = m.user_id
        WHERE m.id = $1 AND m.organization_id = $2 FOR SHARE OF m`,
      [member, organizationId],
    );
    if (!row) throw validation(`Invalid pk "${member}" - object does not exist.`, 'organization_member', 'does_not_exist');
    Object.assign(target, { memberId: row.id, memberEmail: row.email });
  }
  if (role !== null) {
    const [row] = isUuid(role)
      ? await tx.query<{ id: string; name: string }>('SELECT id::text AS id, name FROM roles WHERE id = $1 AND organization_id = $2 FOR SHARE', [
          role,
          organizationId,
        ])
      : [];
    if (!row) throw validation(`Invalid pk "${role}" - object does not exist.`, 'role', 'does_not_exist');
    Object.assign(target, { roleId: row.id, roleName: row.name });
  }
  if (target.memberId !== null && target.roleId !== null) throw validation(BOTH_MEMBER_AND_ROLE, null);
  return target;
}

/**
 * PUT: validates, checks who may change the rules, then creates, updates or (with a null level)
 * deletes the one row for (project, resource, object, member, role). Returns the row, or null when
 * deleted. Nothing is written on any rejection.
 */
export async function putAccessControl(
  tx: Queryable,
  actor: Actor & { userId: number },
  projectId: number,
  scope: AccessControlScope,
  input: AccessControlInput,
  terms?: GrantTerms,
): Promise<AccessControlRecord | null> {
  // One writer at a time per project: the (resource, object, member, role) row is read, then written.
  await tx.query('SELECT id FROM projects WHERE id = $1 FOR UPDATE', [projectId]);
  const caller = await loadCaller(tx, projectId, actor.userId, scope);
  const organizationId = caller.project.project.organization_id;
  await sweepOrganization(tx, organizationId);
  const resource = resourceOf(scope, input);
  const level = validateLevel(resource, input.access_level);
  const target = await resolveTarget(tx, organizationId, input);
  if (!canModify(caller, scope)) throw permissionDenied(denial(scope));

  const resourceId = scope.kind === 'project' ? String(projectId) : scope.kind === 'object' ? caller.object!.id : null;
  if (resourceId !== null && resourceId.length > RESOURCE_ID_MAX) {
    throw validation(`Ensure this field has no more than ${RESOURCE_ID_MAX} characters.`, 'resource_id', 'max_length');
  }
  const existing = (await row(
    tx,
    qb
      .selectFrom('access_controls')
      .selectAll()
      .where('team_id', '=', projectId)
      .where('resource', '=', resource)
      .where('resource_id', 'is not distinct from', resourceId)
      .where('organization_member_id', 'is not distinct from', sql<string | null>`${target.memberId}::uuid`)
      .where('role_id', 'is not distinct from', sql<string | null>`${target.roleId}::uuid`)
      .forUpdate(),
  )) as AccessControlRecord | undefined;
  const log = (activity: 'created' | 'updated' | 'deleted', row: AccessControlRecord, before: AccessLevel | null, after: AccessLevel | null) =>
    recordActivity(tx, {
      organizationId,
      teamId: projectId,
      actor,
      scope: 'AccessControl',
      activity,
      itemId: row.id,
      detail: {
        name: describeRule(row),
        changes: [{ type: 'AccessControl', action: activity === 'updated' ? 'changed' : activity, field: 'access_level', before, after }],
        context: ruleContext(row, {
          member_email: target.memberEmail,
          role_name: target.roleName,
          ...(terms ? { expires_at: row.expires_at, reason: row.reason } : {}),
        }),
      },
    });

  if (level === null) {
    if (!existing) return null;
    await tx.query('DELETE FROM access_controls WHERE id = $1', [existing.id]);
    await log('deleted', existing, existing.access_level, null);
    return null;
  }
  if (existing) {
    if (existing.access_level === level && (!terms || sameTerms(terms, existing))) return existing;
    if (terms) await checkGrantTerms(tx, organizationId, terms, { projectId });
    const [updated] = await tx.query<AccessControlRecord>(
      'UPDATE access_controls SET access_level = $2, expires_at = $3, reason = $4, updated_at = now() WHERE id = $1 RETURNING *',
      [existing.id, level, terms ? terms.expiresAt : existing.expires_at, terms ? terms.reason : existing.reason],
    );
    await log('updated', updated!, existing.access_level, level);
    return updated!;
  }
  // A `none` row takes access away: no grant, so no cap.
  if (level !== 'none') await checkGrantTerms(tx, organizationId, terms ?? LASTING, { projectId });
  const [created] = await tx.query<AccessControlRecord>(
    `INSERT INTO access_controls (team_id, access_level, resource, resource_id, organization_member_id, role_id, created_by_id, expires_at, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [projectId, level, resource, resourceId, target.memberId, target.roleId, actor.userId, terms?.expiresAt ?? null, terms?.reason ?? null],
  );
  await log('created', created!, null, level);
  return created!;
}

const describeRule = (row: Pick<AccessControlRecord, 'resource' | 'resource_id'>) =>
  row.resource_id === null ? `${row.resource} (project-wide)` : `${row.resource} ${row.resource_id}`;

function ruleContext(row: AccessControlRecord, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    resource: row.resource,
    resource_id: row.resource_id,
    member: row.organization_member_id,
    role: row.role_id,
    ...extra,
  };
}

/** Logs a rule that goes away with something else (a deleted role), in the caller's transaction. */
export async function logAccessControlRemoval(
  tx: Queryable,
  actor: Actor,
  organizationId: string,
  row: AccessControlRecord,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await recordActivity(tx, {
    organizationId,
    teamId: row.team_id,
    actor,
    scope: 'AccessControl',
    activity: 'deleted',
    itemId: row.id,
    detail: {
      name: describeRule(row),
      changes: [{ type: 'AccessControl', action: 'deleted', field: 'access_level', before: row.access_level, after: null }],
      context: ruleContext(row, extra),
    },
  });
}
