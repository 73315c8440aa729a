import { resolveAccess, type AccessControlRow, type AccessSource } from './access-control.js';
import { OrganizationLevel, ProjectLevel } from './levels.js';
import type { AccessLevel } from './resources.js';

export interface ProjectAccessFacts {
  /** The user's organization level, or null when not a member of the project's organization. */
  organizationLevel: number | null;
  /** Is the project private (PostHog's `access_control`)? */
  accessControl: boolean;
  /** The user's explicit project membership level, if any. */
  explicitLevel: number | null;
}

/**
 * The user's effective level in a project (PostHog's legacy rule, posthog/user_permissions.py):
 * not in the organization -> none; open project -> the organization level; explicit membership ->
 * max(explicit, organization level); otherwise organization admins keep their level (implicit
 * project admin) and members have no access.
 */
export function effectiveProjectLevel(facts: ProjectAccessFacts): number | null {
  const { organizationLevel, accessControl, explicitLevel } = facts;
  if (organizationLevel === null) return null;
  if (!accessControl) return organizationLevel;
  if (explicitLevel !== null) return Math.max(explicitLevel, organizationLevel);
  if (organizationLevel >= OrganizationLevel.ADMIN) return organizationLevel;
  return null;
}

export interface ProjectAccessControlFacts extends ProjectAccessFacts {
  projectId: number;
  /** The user's organization membership id; null when not a member. */
  organizationMemberId: string | null;
  /** The roles the user holds in the project's organization. */
  roleIds: readonly string[];
  /** Access-control rows on resource `project` of this project (any target; others' rows are ignored). */
  rows: readonly AccessControlRow[];
}

export type ProjectAccessSource = 'not a member' | 'organization admin' | 'access control' | 'legacy';

export interface ProjectLevelResolution {
  /** Effective project level (1 member, 8 admin, or the organization level for admins); null = no access. */
  level: number | null;
  source: ProjectAccessSource;
  reason: string;
  /** The same in PostHog's `access_source` words (users_with_access). */
  accessSource: AccessSource;
}

/** PostHog's mapping of a project access level to a membership level: admin -> 8, member -> 1, none -> no access. */
export function projectLevelOf(level: AccessLevel): number | null {
  if (level === 'admin') return ProjectLevel.ADMIN;
  if (level === 'member') return ProjectLevel.MEMBER;
  return null;
}

/** The access level a project level stands for, as the access-control API shows it. */
export function projectAccessLevelOf(level: number | null): 'none' | 'member' | 'admin' {
  if (level === null) return 'none';
  return level >= ProjectLevel.ADMIN ? 'admin' : 'member';
}

/**
 * The user's effective project level with PostHog's AccessControl rows (posthog/user_permissions.py,
 * reference §2b), in this order:
 * 1. not in the organization -> no access;
 * 2. organization admins and owners keep their organization level;
 * 3. for members, the rows on this project for the member or one of their roles win (their maximum:
 *    admin -> 8, member -> 1, none -> no access); otherwise the project's default row (no member,
 *    no role) applies — resolved by resolveAccess, the one resolution order;
 * 4. with no such row, the legacy rule (private flag + explicit memberships).
 */
export function resolveProjectLevel(facts: ProjectAccessControlFacts): ProjectLevelResolution {
  const { organizationLevel } = facts;
  if (organizationLevel === null || facts.organizationMemberId === null) {
    return { level: null, source: 'not a member', reason: 'not a member of the organization', accessSource: 'default' };
  }
  if (organizationLevel >= OrganizationLevel.ADMIN) {
    return { level: organizationLevel, source: 'organization admin', reason: 'organization admin', accessSource: 'organization_admin' };
  }
  const objectId = String(facts.projectId);
  const memberId = facts.organizationMemberId;
  const applies = facts.rows.filter(
    (row) =>
      row.resourceId === objectId &&
      ((row.organizationMemberId === null && row.roleId === null) ||
        row.organizationMemberId === memberId ||
        (row.roleId !== null && facts.roleIds.includes(row.roleId))),
  );
  if (applies.length > 0) {
    const { level, reason, source } = resolveAccess({
      resource: 'project',
      objectId,
      isCreator: false,
      organizationLevel,
      organizationMemberId: memberId,
      roleIds: facts.roleIds,
      rows: applies,
    });
    return { level: projectLevelOf(level), source: 'access control', reason: `${reason}: ${level}`, accessSource: source };
  }
  const level = effectiveProjectLevel(facts);
  return {
    level,
    source: 'legacy',
    reason: level === null ? 'private project without membership' : facts.accessControl ? 'explicit project membership' : 'open project',
    accessSource: level !== null && facts.accessControl ? 'explicit_member' : 'default',
  };
}
