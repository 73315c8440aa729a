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

/** A row of a project, of any resource type. */
export interface ResourceRow extends AccessControlRow {
  resource: AccessControlResource;
}

/**
 * What the object gate knows about the caller in one project, loaded once per request by the
 * guard: who they are in the organization and the project's access-control rows.
 */
export interface ResourceFacts {
  userId: number;
  organizationLevel: number;
  organizationMemberId: string;
  roleIds: readonly string[];
  rows: readonly ResourceRow[];
}

/** An object under access control: its id and who created it. */
export interface AccessObject {
  id: string | number;
  created_by_id: number | null;
}

/**
 * Where a level comes from, in PostHog's words (its `users_with_access` `access_source`): the
 * object's creator, an organization admin, a rule for the member themself, a rule for one of their
 * roles, or a default (the project-wide or object default rule, or the built-in level).
 */
export type AccessSource = 'creator' | 'organization_admin' | 'project_admin' | 'explicit_member' | 'explicit_role' | 'default';

export interface AccessResolution {
  level: AccessLevel;
  reason: string;
  source: AccessSource;
}

const mine = (facts: Pick<ResourceFacts, 'organizationMemberId' | 'roleIds'>, row: AccessControlRow) =>
  row.organizationMemberId === facts.organizationMemberId || (row.roleId !== null && facts.roleIds.includes(row.roleId));
const isDefault = (row: AccessControlRow) => row.organizationMemberId === null && row.roleId === null;
/** The rows that apply to the caller: the defaults, their own, their roles'. */
const applicable = (facts: Pick<ResourceFacts, 'organizationMemberId' | 'roleIds'>, row: AccessControlRow) => isDefault(row) || mine(facts, row);

function highest(resource: AccessControlResource, rows: readonly AccessControlRow[]): AccessLevel | null {
  if (rows.length === 0) return null;
  return rows.map((r) => r.accessLevel).reduce((a, b) => (compareAccessLevels(resource, a, b) >= 0 ? a : b));
}

/** Which kind of row gave `level`: the member's own, else a role's, else a default row. */
function sourceOf(facts: Pick<ResourceFacts, 'organizationMemberId'>, rows: readonly AccessControlRow[], level: AccessLevel): AccessSource {
  const winners = rows.filter((r) => r.accessLevel === level);
  if (winners.some((r) => r.organizationMemberId !== null && r.organizationMemberId === facts.organizationMemberId)) return 'explicit_member';
  if (winners.some((r) => r.roleId !== null)) return 'explicit_role';
  return 'default';
}

const isAdmin = (facts: ResourceFacts) => facts.organizationLevel >= OrganizationLevel.ADMIN;

/**
 * The caller's level on the resource type (lists, creation): organization admins the highest, else
 * the highest of the project-wide rows that apply (default, member, role), else PostHog's default.
 */
export function resourceAccess(facts: ResourceFacts, resource: AccessControlResource): AccessResolution {
  if (isAdmin(facts)) return { level: highestAccessLevel(resource), reason: 'organization admin', source: 'organization_admin' };
  const rows = facts.rows.filter((r) => r.resource === resource && r.resourceId === null && applicable(facts, r));
  const level = highest(resource, rows);
  return level
    ? { level, reason: 'highest project-wide rule for the resource', source: sourceOf(facts, rows, level) }
    : { level: defaultAccessLevel(resource), reason: 'built-in default', source: 'default' };
}

/**
 * The caller's level on one object (PostHog's get_user_access_level, posthog/rbac/user_access_control.py):
 * the creator and organization admins have the highest level; else the highest of the caller's own
 * and their roles' rows on the object; else the highest project-wide rule that applies (default,
 * member, role), when there is one; else the object's own default row; else PostHog's default.
 */
export function objectAccess(facts: ResourceFacts, resource: AccessControlResource, object: AccessObject): AccessResolution {
  if (object.created_by_id !== null && object.created_by_id === facts.userId) {
    return { level: highestAccessLevel(resource), reason: 'creator of the object', source: 'creator' };
  }
  if (isAdmin(facts)) return { level: highestAccessLevel(resource), reason: 'organization admin', source: 'organization_admin' };
  const onObject = facts.rows.filter((r) => r.resource === resource && r.resourceId === String(object.id));
  const own = onObject.filter((r) => mine(facts, r));
  const specific = highest(resource, own);
  if (specific) return { level: specific, reason: 'member or role rule on the object', source: sourceOf(facts, own, specific) };
  const wide = facts.rows.filter((r) => r.resource === resource && r.resourceId === null && applicable(facts, r));
  const projectWide = highest(resource, wide);
  if (projectWide) return { level: projectWide, reason: 'highest project-wide rule for the resource', source: sourceOf(facts, wide, projectWide) };
  const objectDefault = highest(resource, onObject.filter(isDefault));
  if (objectDefault) return { level: objectDefault, reason: 'default rule on the object', source: 'default' };
  return { level: defaultAccessLevel(resource), reason: 'built-in default', source: 'default' };
}

/** The level on the object when one is named, else on the resource type. */
export const accessFor = (facts: ResourceFacts, resource: AccessControlResource, object: AccessObject | null): AccessResolution =>
  object === null ? resourceAccess(facts, resource) : objectAccess(facts, resource, object);

/** One question about one resource type, with its rows (the console's and the project rule's form). */
export interface AccessFacts {
  resource: AccessControlResource;
  /** The object asked about; null for a question about the resource type (lists, creation). */
  objectId: string | null;
  isCreator: boolean;
  organizationLevel: number;
  organizationMemberId: string;
  roleIds: readonly string[];
  /** The project's rows for this resource: project-wide ones, and the object's own. */
  rows: readonly AccessControlRow[];
}

/** accessFor, asked with one resource's rows. */
export function resolveAccess(facts: AccessFacts): AccessResolution {
  if (facts.isCreator) return { level: highestAccessLevel(facts.resource), reason: 'creator of the object', source: 'creator' };
  const resourceFacts: ResourceFacts = { ...facts, userId: 0, rows: facts.rows.map((r) => ({ ...r, resource: facts.resource })) };
  return accessFor(resourceFacts, facts.resource, facts.objectId === null ? null : { id: facts.objectId, created_by_id: null });
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

export type GateDecision = { allow: true } | { allow: false; detail: string; reason: string };

/**
 * May the caller use a route that serves this resource at all (PostHog's
 * AccessControlPermission.has_permission)? Their level on the resource type must meet the action's
 * need; failing that, a route that does not create may still be used by someone the caller's own or
 * their roles' rows grant that level on some object (their lists then show just those objects).
 */
export function routeGate(facts: ResourceFacts, resource: AccessControlResource, action: 'read' | 'write', creates: boolean): GateDecision {
  const need = requiredLevel(resource, action);
  if (satisfies(resource, resourceAccess(facts, resource).level, need)) return { allow: true };
  if (!creates && facts.rows.some((r) => r.resource === resource && r.resourceId !== null && mine(facts, r) && satisfies(resource, r.accessLevel, need))) {
    return { allow: true };
  }
  return { allow: false, detail: accessDeniedMessage(need), reason: `no ${need} access to ${resource}` };
}

/** May the caller `action` this object (PostHog's has_object_permission)? */
export function objectGate(facts: ResourceFacts, resource: AccessControlResource, action: 'read' | 'write', object: AccessObject): GateDecision {
  const need = requiredLevel(resource, action);
  const { level, reason } = objectAccess(facts, resource, object);
  return satisfies(resource, level, need) ? { allow: true } : { allow: false, detail: accessDeniedMessage(need), reason: `${reason}: ${level}` };
}

/**
 * The objects a list shows (PostHog's filter_queryset_by_access_level): without access to the
 * resource type, only the objects the caller's own or role rows grant them (and what they created);
 * otherwise all but those whose rows that apply all say `none` (their own or role rows when there
 * are any, else the object's defaults); the creator always sees their objects.
 */
export function visibleObjects<T extends AccessObject>(facts: ResourceFacts, resource: AccessControlResource, objects: readonly T[]): T[] {
  if (isAdmin(facts)) return [...objects];
  const withoutResource = resourceAccess(facts, resource).level === 'none';
  return objects.filter((o) => {
    if (o.created_by_id !== null && o.created_by_id === facts.userId) return true;
    const rows = facts.rows.filter((r) => r.resource === resource && r.resourceId === String(o.id) && applicable(facts, r));
    const explicit = rows.filter((r) => mine(facts, r));
    if (withoutResource) return explicit.some((r) => r.accessLevel !== 'none');
    if (explicit.length > 0) return explicit.some((r) => r.accessLevel !== 'none');
    return rows.length === 0 || rows.some((r) => r.accessLevel !== 'none');
  });
}
