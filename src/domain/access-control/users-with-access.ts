import { accessFor, requiredLevel, satisfies, type AccessObject, type AccessSource, type ResourceRow } from '../../access/access-control.js';
import { projectAccessLevelOf, resolveProjectLevel } from '../../access/project-access.js';
import { ACCESS_CONTROL_RESOURCES, type AccessControlResource, type AccessLevel } from '../../access/resources.js';
import type { Queryable } from '../../store/database.js';
import { notFound } from '../errors.js';

/**
 * Who has access and why (PostHog's `users_with_access`): for a project, a resource type in it, or
 * one object, every active member of the organization with their effective level and where it
 * comes from. The levels are the access core's (src/access/project-access.ts resolveProjectLevel and
 * src/access/access-control.ts accessFor), asked once per member with that member's facts: no rule
 * is decided here.
 */
export type AccessSubject =
  | { kind: 'project' }
  | { kind: 'resource'; resource: AccessControlResource }
  | { kind: 'object'; resource: AccessControlResource; object: AccessObject };

export interface ResourceAnswer {
  resource: AccessControlResource;
  access_level: AccessLevel;
  access_source: AccessSource;
  reason: string;
  can_read: boolean;
  can_write: boolean;
}

export interface UserAccess {
  user: { id: number; uuid: string; email: string; first_name: string; last_name: string; is_service_account: boolean };
  organization_membership_id: string;
  organization_membership_level: number;
  role_ids: string[];
  /** The member's level in the project ('none' when they cannot enter it). */
  project_access_level: 'none' | 'member' | 'admin';
  access_level: AccessLevel;
  access_source: AccessSource;
  reason: string;
  /** The earliest expiry of a time-bound grant the member's access here rests on (null: none expires). */
  expires_at: Date | null;
  /** The reasons given for the member's grants (their level raise, explicit membership, roles, rows). */
  grant_reasons: string[];
  /** With `member`: the member's level on every resource type of the project. */
  resources?: ResourceAnswer[];
}

interface MemberRow {
  member_id: string;
  level: number;
  user_id: number;
  uuid: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  is_service_account: boolean;
  explicit_level: number | null;
  role_ids: string[] | null;
  expires_at: Date | null;
  grant_reasons: string[] | null;
}

/** A member's time-bound grants as seen from project $2: the earliest expiry and every reason given. */
const GRANT_TERMS = `LEAST(m.level_expires_at,
    (SELECT e.expires_at FROM explicit_project_memberships e WHERE e.parent_membership_id = m.id AND e.project_id = $2),
    (SELECT min(rm.expires_at) FROM role_memberships rm WHERE rm.organization_member_id = m.id),
    (SELECT min(ac.expires_at) FROM access_controls ac WHERE ac.team_id = $2 AND ac.organization_member_id = m.id)) AS expires_at,
  ARRAY(SELECT r FROM unnest(ARRAY[m.level_reason]
      || ARRAY(SELECT e.reason FROM explicit_project_memberships e WHERE e.parent_membership_id = m.id AND e.project_id = $2)
      || ARRAY(SELECT rm.reason FROM role_memberships rm WHERE rm.organization_member_id = m.id)
      || ARRAY(SELECT ac.reason FROM access_controls ac WHERE ac.team_id = $2 AND ac.organization_member_id = m.id)) AS r
    WHERE r IS NOT NULL) AS grant_reasons`;

export interface UsersWithAccessOptions {
  /** Only this organization membership, included even without access, with every resource type's answer. */
  member?: string;
}

export async function usersWithAccess(q: Queryable, projectId: number, subject: AccessSubject, options: UsersWithAccessOptions = {}): Promise<UserAccess[]> {
  const [project] = await q.query<{ organization_id: string; access_control: boolean }>(
    'SELECT organization_id::text AS organization_id, access_control FROM projects WHERE id = $1',
    [projectId],
  );
  if (!project) throw notFound();
  const members = await q.query<MemberRow>(
    `SELECT m.id::text AS member_id, m.level, u.id AS user_id, u.uuid::text AS uuid, u.email, u.first_name, u.last_name, u.is_service_account,
            (SELECT e.level FROM explicit_project_memberships e WHERE e.parent_membership_id = m.id AND e.project_id = $2) AS explicit_level,
            (SELECT array_agg(rm.role_id::text) FROM role_memberships rm WHERE rm.organization_member_id = m.id) AS role_ids,
            ${GRANT_TERMS}
       FROM organization_memberships m JOIN users u ON u.id = m.user_id
      WHERE m.organization_id = $1::uuid AND u.is_active AND ($3::text IS NULL OR m.id::text = $3::text)
      ORDER BY u.email`,
    [project.organization_id, projectId, options.member ?? null],
  );
  if (options.member !== undefined && members.length === 0) throw notFound('Organization member not found.');
  const rows = (
    await q.query<{ resource: string; access_level: AccessLevel; resource_id: string | null; organization_member_id: string | null; role_id: string | null }>(
      'SELECT resource, access_level, resource_id, organization_member_id::text, role_id::text FROM access_controls WHERE team_id = $1',
      [projectId],
    )
  ).map(
    (r): ResourceRow => ({
      resource: r.resource as AccessControlResource,
      accessLevel: r.access_level,
      resourceId: r.resource_id,
      organizationMemberId: r.organization_member_id,
      roleId: r.role_id,
    }),
  );
  const projectRows = rows.filter((r) => r.resource === 'project');

  const answers: UserAccess[] = [];
  for (const m of members) {
    const roleIds = m.role_ids ?? [];
    const reach = resolveProjectLevel({
      projectId,
      organizationLevel: m.level,
      organizationMemberId: m.member_id,
      accessControl: project.access_control,
      explicitLevel: m.explicit_level,
      roleIds,
      rows: projectRows,
    });
    const facts = { userId: m.user_id, organizationLevel: m.level, organizationMemberId: m.member_id, roleIds, rows };
    const inProject = reach.level !== null;
    const answer =
      subject.kind === 'project' || !inProject
        ? { level: projectAccessLevelOf(reach.level) as AccessLevel, source: reach.accessSource, reason: reach.reason }
        : accessFor(facts, subject.resource, subject.kind === 'object' ? subject.object : null);
    const hasAccess = inProject && answer.level !== 'none';
    if (!hasAccess && options.member === undefined) continue;
    answers.push({
      user: {
        id: m.user_id,
        uuid: m.uuid,
        email: m.email,
        first_name: m.first_name ?? '',
        last_name: m.last_name ?? '',
        is_service_account: m.is_service_account,
      },
      organization_membership_id: m.member_id,
      organization_membership_level: m.level,
      role_ids: roleIds,
      expires_at: m.expires_at,
      grant_reasons: m.grant_reasons ?? [],
      project_access_level: projectAccessLevelOf(reach.level),
      access_level: answer.level,
      access_source: answer.source,
      reason: answer.reason,
      ...(options.member !== undefined
        ? {
            resources: inProject
              ? ACCESS_CONTROL_RESOURCES.map((resource) => {
                  const { level, source, reason } = accessFor(facts, resource, null);
                  return {
                    resource,
                    access_level: level,
                    access_source: source,
                    reason,
                    can_read: satisfies(resource, level, requiredLevel(resource, 'read')),
                    can_write: satisfies(resource, level, requiredLevel(resource, 'write')),
                  };
                })
              : [],
          }
        : {}),
    });
  }
  return answers;
}
