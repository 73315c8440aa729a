import { OrganizationLevel } from './levels.js';
import { compareAccessLevels, defaultAccessLevel, highestAccessLevel, type AccessControlResource, type AccessLevel } from './resources.js';

/** One access-control row as the rules need it (PostHog's AccessControl). */
export interface AccessControlRow {
  accessLevel: AccessLevel;
  /** null = the whole resource type in the project. */
  resourceId: string | null;
  organizationMemberId: string | null;
  roleId: string | null;
}

export interface AccessFacts {
  resource: AccessControlResource;
  /** The object asked about; null for a question about the resource type (lists, creation). */
  objectId: string | null;
  /** Did this user create the object? */
  isCreator: boolean;
  organizationLevel: number;
  organizationMemberId: string;
  roleIds: readonly string[];
  /** The project's rows for this resource: resource-level ones, and the object's own. */
  rows: readonly AccessControlRow[];
}

export interface AccessResolution {
  level: AccessLevel;
  reason: string;
}

/**
 * The user's access level to a resource or one object of it (PostHog's resolution order,
 * posthog/rbac/user_access_control.py): creator, organization admin, the object's member/role rows,
 * the resource's member/role rows, the object's default row, the resource's default row, then the
 * built-in default. Pure.
 */
export function resolveAccess(facts: AccessFacts): AccessResolution {
  const highest = highestAccessLevel(facts.resource);
  if (facts.isCreator) return { level: highest, reason: 'creator of the object' };
  if (facts.organizationLevel >= OrganizationLevel.ADMIN) return { level: highest, reason: 'organization admin' };

  const mine = (row: AccessControlRow) =>
    row.organizationMemberId === facts.organizationMemberId || (row.roleId !== null && facts.roleIds.includes(row.roleId));
  const isDefault = (row: AccessControlRow) => row.organizationMemberId === null && row.roleId === null;
  const onObject = (row: AccessControlRow) => facts.objectId !== null && row.resourceId === facts.objectId;
  const onResource = (row: AccessControlRow) => row.resourceId === null;

  const steps: Array<[string, (row: AccessControlRow) => boolean]> = [
    ['member or role rule on the object', (r) => onObject(r) && mine(r)],
    ['member or role rule on the resource', (r) => onResource(r) && mine(r)],
    ['default rule on the object', (r) => onObject(r) && isDefault(r)],
    ['default rule on the resource', (r) => onResource(r) && isDefault(r)],
  ];
  for (const [reason, applies] of steps) {
    const levels = facts.rows.filter(applies).map((r) => r.accessLevel);
    if (levels.length > 0) {
      const level = levels.reduce((a, b) => (compareAccessLevels(facts.resource, a, b) >= 0 ? a : b));
      return { level, reason };
    }
  }
  return { level: defaultAccessLevel(facts.resource), reason: 'built-in default' };
}

/** Reads need viewer (member for project/organization); writes need editor (admin). */
export function requiredLevel(resource: AccessControlResource, action: 'read' | 'write'): AccessLevel {
  if (resource === 'project' || resource === 'organization') return action === 'read' ? 'member' : 'admin';
  return action === 'read' ? 'viewer' : 'editor';
}

export function satisfies(resource: AccessControlResource, have: AccessLevel, need: AccessLevel): boolean {
  // A need off the resource's scale is never met.
  return compareAccessLevels(resource, need, 'none') >= 0 && compareAccessLevels(resource, have, need) >= 0;
}

/** PostHog's message for a denied resource access. */
export const accessDeniedMessage = (need: AccessLevel) => `You do not have ${need} access to this resource.`;
