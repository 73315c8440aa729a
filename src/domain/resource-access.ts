import { readThrough } from '../cache/read-through.js';
import {
  accessDeniedMessage,
  requiredLevel,
  resolveAccess,
  satisfies,
  type AccessControlRow,
  type AccessResolution,
} from '../access/access-control.js';
import type { AccessControlResource, AccessLevel } from '../access/resources.js';
import type { Queryable } from '../store/database.js';
import { permissionDenied } from './errors.js';

/**
 * The one gate for project resources (flags, insights, dashboards, recordings, events): every
 * resource route asks here, through the access-control rows of PostHog's model, before it reads,
 * lists, creates or changes anything. A personal API key is judged as its user (its scopes were
 * checked by the guard already), so a key never exceeds its user.
 */
export interface ResourceActor {
  userId: number;
  projectId: number;
  organizationLevel: number;
  organizationMemberId: string;
  roleIds: readonly string[];
}

export async function loadResourceActor(q: Queryable, projectId: number, userId: number): Promise<ResourceActor | undefined> {
  const found = await readThrough(
    q,
    'resource_actor',
    `${projectId}:${userId}`,
    async () => {
      const [row] = await q.query<{ level: number; member_id: string; organization_id: string; role_ids: string[] | null }>(
        `SELECT m.level, m.id AS member_id, p.organization_id,
                (SELECT array_agg(rm.role_id::text) FROM role_memberships rm WHERE rm.organization_member_id = m.id) AS role_ids
           FROM projects p JOIN organization_memberships m ON m.organization_id = p.organization_id AND m.user_id = $2
          WHERE p.id = $1`,
        [projectId, userId],
      );
      return row;
    },
    (row) => [`project:${projectId}`, `org:${row.organization_id}`, `member:${row.member_id}`],
  );
  if (!found) return undefined;
  return { userId, projectId, organizationLevel: found.level, organizationMemberId: found.member_id, roleIds: found.role_ids ?? [] };
}

function rowsFor(q: Queryable, projectId: number, resource: AccessControlResource): Promise<readonly AccessControlRow[]> {
  return readThrough(
    q,
    'access_rows',
    `${projectId}:${resource}`,
    async () => {
      const rows = await q.query<{ access_level: AccessLevel; resource_id: string | null; organization_member_id: string | null; role_id: string | null }>(
        `SELECT access_level, resource_id, organization_member_id::text, role_id::text
           FROM access_controls WHERE team_id = $1 AND resource = $2`,
        [projectId, resource],
      );
      return rows.map((r) => ({
        accessLevel: r.access_level,
        resourceId: r.resource_id,
        organizationMemberId: r.organization_member_id,
        roleId: r.role_id,
      }));
    },
    () => [`project:${projectId}`],
  );
}

function resolveWith(
  actor: ResourceActor,
  resource: AccessControlResource,
  rows: readonly AccessControlRow[],
  object: { id: string | number; created_by_id: number | null } | null,
): AccessResolution {
  return resolveAccess({
    resource,
    objectId: object === null ? null : String(object.id),
    isCreator: object !== null && object.created_by_id === actor.userId,
    organizationLevel: actor.organizationLevel,
    organizationMemberId: actor.organizationMemberId,
    roleIds: actor.roleIds,
    rows,
  });
}

/** The actor's level on the resource type (lists, creation) or on one object. */
export async function accessLevel(
  q: Queryable,
  actor: ResourceActor,
  resource: AccessControlResource,
  object: { id: string | number; created_by_id: number | null } | null = null,
): Promise<AccessResolution> {
  return resolveWith(actor, resource, await rowsFor(q, actor.projectId, resource), object);
}

/** Throws PostHog's 403 unless the actor may `action` the resource type, or the object when given. */
export async function requireAccess(
  q: Queryable,
  actor: ResourceActor,
  resource: AccessControlResource,
  action: 'read' | 'write',
  object: { id: string | number; created_by_id: number | null } | null = null,
): Promise<AccessLevel> {
  const need = requiredLevel(resource, action);
  const { level } = await accessLevel(q, actor, resource, object);
  if (!satisfies(resource, level, need)) throw permissionDenied(accessDeniedMessage(need));
  return level;
}

/**
 * Does the actor see every object of the resource alike? Yes when no rule names one object and the
 * resource-wide level is enough to view (a creator's own objects only add): lists can then be paged
 * by the database without deciding object by object.
 */
export async function seesEveryObject(q: Queryable, actor: ResourceActor, resource: AccessControlResource): Promise<boolean> {
  const rows = await rowsFor(q, actor.projectId, resource);
  if (rows.some((r) => r.resourceId !== null)) return false;
  return satisfies(resource, resolveWith(actor, resource, rows, null).level, requiredLevel(resource, 'read'));
}

/** Lists show only what the actor may view (PostHog hides objects resolved to `none`). */
export async function visibleTo<T extends { id: string | number; created_by_id: number | null }>(
  q: Queryable,
  actor: ResourceActor,
  resource: AccessControlResource,
  objects: readonly T[],
): Promise<T[]> {
  const rows = await rowsFor(q, actor.projectId, resource);
  const need = requiredLevel(resource, 'read');
  return objects.filter((o) => satisfies(resource, resolveWith(actor, resource, rows, o).level, need));
}
