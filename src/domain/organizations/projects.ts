import { readThrough } from '../../cache/read-through.js';
import { OrganizationLevel } from '../../access/levels.js';
import { accessDeniedMessage, type AccessControlRow } from '../../access/access-control.js';
import { CREATE_PROJECT_NEEDS_ADMIN, INSUFFICIENT_PROJECT_LEVEL } from '../../access/messages.js';
import { resolveProjectLevel, type ProjectAccessSource, type ProjectLevelResolution } from '../../access/project-access.js';
import type { Queryable } from '../../store/database.js';
import { diffFields, recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, permissionDenied, validation } from '../errors.js';
import type { OrganizationRecord, ProjectRecord } from '../records.js';
import { newProjectToken } from '../identity/tokens.js';

export const NO_PROJECT_ACCESS = "You don't have access to the project.";

export interface ProjectAccess {
  project: ProjectRecord;
  organizationLevel: number | null;
  /** The user's organization membership id; null when not a member. */
  organizationMemberId: string | null;
  explicitLevel: number | null;
  /** The user's effective project level (PostHog's rules with access controls); null = no access. */
  effectiveLevel: number | null;
  /** Where the effective level comes from. */
  accessSource: ProjectAccessSource;
  /** The earliest expiry (epoch ms) of a time-bound grant this access rests on; null = none. */
  validUntil: number | null;
}

/**
 * The user's membership, roles, explicit membership and the project's access-control rows that can
 * concern them (their own, their roles', the default), as columns of a row of `projects p` joined
 * to the user's membership `m` and explicit membership `e`.
 */
/** The earliest expiry among the time-bound grants the access columns were built from (LEAST skips nulls). */
const GRANTS_VALID_UNTIL = `LEAST(m.level_expires_at, e.expires_at,
    (SELECT min(rm.expires_at) FROM role_memberships rm WHERE rm.organization_member_id = m.id),
    (SELECT min(ac.expires_at) FROM access_controls ac WHERE ac.team_id = p.id AND ac.resource = 'project')) AS valid_until`;

const ACCESS_COLUMNS = `m.level AS org_level, m.id::text AS member_id, e.level AS explicit_level,
  ARRAY(SELECT rm.role_id::text FROM role_memberships rm WHERE rm.organization_member_id = m.id) AS role_ids,
  COALESCE((
    SELECT json_agg(json_build_object(
      'accessLevel', ac.access_level, 'resourceId', ac.resource_id,
      'organizationMemberId', ac.organization_member_id::text, 'roleId', ac.role_id::text))
      FROM access_controls ac
     WHERE ac.team_id = p.id AND ac.resource = 'project' AND ac.resource_id = p.id::text
       AND ((ac.organization_member_id IS NULL AND ac.role_id IS NULL)
            OR ac.organization_member_id = m.id
            OR ac.role_id IN (SELECT rm.role_id FROM role_memberships rm WHERE rm.organization_member_id = m.id))
  ), '[]'::json) AS project_rows,
  ${GRANTS_VALID_UNTIL}`;

interface AccessColumns {
  org_level: number | null;
  member_id: string | null;
  explicit_level: number | null;
  role_ids: string[] | null;
  project_rows: AccessControlRow[] | string;
  valid_until?: Date | null;
}

/** Splits a row into the project and the user's access to it, resolved by the access rules. */
function splitAccess(row: ProjectRecord & AccessColumns): { project: ProjectRecord; resolution: ProjectLevelResolution; facts: AccessColumns } {
  const { org_level, member_id, explicit_level, role_ids, project_rows, valid_until, ...project } = row;
  const rows = typeof project_rows === 'string' ? (JSON.parse(project_rows) as AccessControlRow[]) : project_rows;
  const resolution = resolveProjectLevel({
    projectId: project.id,
    organizationLevel: org_level,
    organizationMemberId: member_id,
    roleIds: role_ids ?? [],
    accessControl: project.access_control,
    explicitLevel: explicit_level,
    rows,
  });
  return { project, resolution, facts: { org_level, member_id, explicit_level, role_ids, project_rows: rows, valid_until: valid_until ?? null } };
}

/** A project with the user's access to it, in one query. */
export async function findProjectAccess(q: Queryable, projectId: number, userId: number): Promise<ProjectAccess | undefined> {
  return readThrough(
    q,
    'project_access',
    `${projectId}:${userId}`,
    () => loadProjectAccess(q, projectId, userId),
    (access) => [
      `project:${projectId}`,
      `org:${access.project.organization_id}`,
      ...(access.organizationMemberId ? [`member:${access.organizationMemberId}`] : []),
    ],
    (access) => access.validUntil,
  );
}

async function loadProjectAccess(q: Queryable, projectId: number, userId: number): Promise<ProjectAccess | undefined> {
  const [row] = await q.query<ProjectRecord & AccessColumns>(
    `SELECT p.*, ${ACCESS_COLUMNS}
       FROM projects p
       LEFT JOIN organization_memberships m ON m.organization_id = p.organization_id AND m.user_id = $2
       LEFT JOIN explicit_project_memberships e ON e.project_id = p.id AND e.parent_membership_id = m.id
      WHERE p.id = $1`,
    [projectId, userId],
  );
  if (!row) return undefined;
  const { project, resolution, facts } = splitAccess(row);
  return {
    project,
    organizationLevel: facts.org_level,
    organizationMemberId: facts.member_id,
    explicitLevel: facts.explicit_level,
    effectiveLevel: resolution.level,
    accessSource: resolution.source,
    validUntil: facts.valid_until ? new Date(facts.valid_until).getTime() : null,
  };
}

/**
 * The project if the user may reach it. Outside the organization it does not exist for them (404);
 * inside it without access they get PostHog's 403.
 */
export async function requireProjectAccess(q: Queryable, projectId: number, userId: number): Promise<ProjectAccess> {
  const access = await findProjectAccess(q, projectId, userId);
  if (!access || access.organizationLevel === null) throw notFound('Project not found.');
  if (access.effectiveLevel === null) throw permissionDenied(NO_PROJECT_ACCESS);
  return access;
}

/** Projects the user can see, optionally in one organization, with their effective level. */
export async function listVisibleProjects(q: Queryable, userId: number, organizationId?: string): Promise<Array<ProjectRecord & { effective_level: number }>> {
  const rows = await q.query<ProjectRecord & AccessColumns>(
    `SELECT p.*, ${ACCESS_COLUMNS}
       FROM projects p
       JOIN organization_memberships m ON m.organization_id = p.organization_id AND m.user_id = $1
       LEFT JOIN explicit_project_memberships e ON e.project_id = p.id AND e.parent_membership_id = m.id
      WHERE ($2::uuid IS NULL OR p.organization_id = $2::uuid)
      ORDER BY p.id`,
    [userId, organizationId ?? null],
  );
  const visible: Array<ProjectRecord & { effective_level: number }> = [];
  for (const row of rows) {
    const { project, resolution } = splitAccess(row);
    if (resolution.level !== null) visible.push({ ...project, effective_level: resolution.level });
  }
  return visible;
}

/** The organization a project belongs to (for activity entries written by project-level code). */
export async function organizationIdOf(q: Queryable, projectId: number): Promise<string> {
  const [row] = await q.query<{ organization_id: string }>('SELECT organization_id FROM projects WHERE id = $1', [projectId]);
  if (!row) throw notFound('Project not found.');
  return row.organization_id;
}

export function validateProjectName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw validation('This field may not be blank.', 'name', 'blank');
  if (trimmed.length > 200) throw validation('Ensure this field has no more than 200 characters.', 'name', 'max_length');
  return trimmed;
}

/** An IANA time zone name the runtime knows (PostHog offers the same list as choices). */
export function validateTimezone(timezone: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
    return timezone;
  } catch {
    throw validation(`"${timezone}" is not a valid choice.`, 'timezone', 'invalid_choice');
  }
}

export interface NewProject {
  name: string;
  accessControl: boolean;
  timezone?: string;
}

/** Inserts a project and its activity entry; the caller has checked who may create it. */
export async function createProject(tx: Queryable, actor: Actor, organization: OrganizationRecord, input: NewProject): Promise<ProjectRecord> {
  const [project] = await tx.query<ProjectRecord>(
    `INSERT INTO projects (organization_id, name, api_token, access_control, timezone)
     VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [organization.id, validateProjectName(input.name), newProjectToken(), input.accessControl, validateTimezone(input.timezone ?? 'UTC')],
  );
  await recordActivity(tx, {
    organizationId: organization.id,
    teamId: project!.id,
    actor,
    scope: 'Project',
    activity: 'created',
    itemId: project!.id,
    detail: {
      name: project!.name,
      changes: [{ type: 'Project', action: 'created', field: 'access_control', before: null, after: project!.access_control }],
    },
  });
  return project!;
}

/** Creating a project through the API: organization admins and owners only. */
export async function createProjectAsMember(
  tx: Queryable,
  actor: Actor & { userId: number },
  organization: OrganizationRecord,
  organizationLevel: number,
  input: NewProject,
): Promise<ProjectRecord> {
  if (organizationLevel < OrganizationLevel.ADMIN) throw permissionDenied(CREATE_PROJECT_NEEDS_ADMIN);
  return createProject(tx, actor, organization, input);
}

async function lockProject(tx: Queryable, projectId: number, userId: number): Promise<ProjectAccess> {
  await tx.query('SELECT id FROM projects WHERE id = $1 FOR UPDATE', [projectId]);
  return requireProjectAccess(tx, projectId, userId);
}

export interface ProjectPatch {
  name?: string;
  access_control?: boolean;
  timezone?: string;
  is_production?: boolean;
}

export async function updateProject(tx: Queryable, actor: Actor & { userId: number }, projectId: number, patch: ProjectPatch): Promise<ProjectRecord> {
  const access = await lockProject(tx, projectId, actor.userId);
  // PostHog: every project member may update it (only deletion needs project admin), unless a project
  // rule makes them a project `member`, below the `admin` a project write needs.
  if (access.accessSource === 'access control' && access.effectiveLevel! < OrganizationLevel.ADMIN) {
    throw permissionDenied(accessDeniedMessage('admin'));
  }
  const before = access.project;
  const next = { ...before };
  if (patch.name !== undefined) next.name = validateProjectName(patch.name);
  if (patch.timezone !== undefined) next.timezone = validateTimezone(patch.timezone);
  if (patch.access_control !== undefined && patch.access_control !== before.access_control) {
    // Making a project private or open changes who can reach it: an organization decision.
    if ((access.organizationLevel ?? 0) < OrganizationLevel.ADMIN) {
      throw permissionDenied('Your organization access level is insufficient.');
    }
    next.access_control = patch.access_control;
  }
  if (patch.is_production !== undefined && patch.is_production !== before.is_production) {
    // The production cap on grants (docs/time-bound-access.md) is the organization's, as is the flag.
    if ((access.organizationLevel ?? 0) < OrganizationLevel.ADMIN) throw permissionDenied('Your organization access level is insufficient.');
    next.is_production = patch.is_production;
  }
  const changes = diffFields(before, next, ['name', 'access_control', 'timezone', 'is_production'], 'Project');
  if (changes.length === 0) return before;
  const [after] = await tx.query<ProjectRecord>(
    'UPDATE projects SET name = $2, access_control = $3, timezone = $4, is_production = $5, updated_at = now() WHERE id = $1 RETURNING *',
    [projectId, next.name, next.access_control, next.timezone, next.is_production],
  );
  await recordActivity(tx, {
    organizationId: before.organization_id,
    teamId: projectId,
    actor,
    scope: 'Project',
    activity: 'updated',
    itemId: projectId,
    detail: { name: after!.name, changes },
  });
  return after!;
}

export async function deleteProject(tx: Queryable, actor: Actor & { userId: number }, projectId: number): Promise<void> {
  const access = await lockProject(tx, projectId, actor.userId);
  if (access.effectiveLevel! < OrganizationLevel.ADMIN) throw permissionDenied(INSUFFICIENT_PROJECT_LEVEL);
  await recordActivity(tx, {
    organizationId: access.project.organization_id,
    teamId: projectId,
    actor,
    scope: 'Project',
    activity: 'deleted',
    itemId: projectId,
    detail: { name: access.project.name, changes: [{ type: 'Project', action: 'deleted' }] },
  });
  await tx.query('UPDATE users SET current_project_id = NULL WHERE current_project_id = $1', [projectId]);
  await tx.query('DELETE FROM projects WHERE id = $1', [projectId]);
}
