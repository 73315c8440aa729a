import { readThrough } from '../../cache/read-through.js';
import {
  accessDeniedMessage,
  accessFor,
  objectGate,
  requiredLevel,
  resourceAccess,
  satisfies,
  visibleObjects,
  type AccessObject,
  type AccessResolution,
  type ResourceFacts,
  type ResourceRow,
} from '../../access/access-control.js';
import type { AccessControlResource, AccessLevel } from '../../access/resources.js';
import type { Queryable } from '../../store/database.js';
import { permissionDenied } from '../errors.js';

/**
 * The caller's resource facts in one project (src/access/access-control.ts): loaded once per
 * request by the guard for every route that declares the resource it serves, and handed to the
 * domain, which asks the pure rules (no query of its own). A personal API key is judged as its user
 * (its scopes were checked by the guard already), so a key never exceeds its user.
 */
export interface ResourceActor extends ResourceFacts {
  projectId: number;
}

export async function loadResourceActor(q: Queryable, projectId: number, userId: number): Promise<ResourceActor | undefined> {
  const found = await readThrough(
    q,
    'resource_actor',
    `${projectId}:${userId}`,
    async () => {
      const [row] = await q.query<{ level: number; member_id: string; organization_id: string; role_ids: string[] | null; valid_until: Date | null }>(
        `SELECT m.level, m.id AS member_id, p.organization_id,
                (SELECT array_agg(rm.role_id::text) FROM role_memberships rm WHERE rm.organization_member_id = m.id) AS role_ids,
                LEAST(m.level_expires_at, (SELECT min(rm.expires_at) FROM role_memberships rm WHERE rm.organization_member_id = m.id)) AS valid_until
           FROM projects p JOIN organization_memberships m ON m.organization_id = p.organization_id AND m.user_id = $2
          WHERE p.id = $1`,
        [projectId, userId],
      );
      return row;
    },
    (row) => [`project:${projectId}`, `org:${row.organization_id}`, `member:${row.member_id}`],
    (row) => (row.valid_until ? new Date(row.valid_until).getTime() : null),
  );
  if (!found) return undefined;
  return {
    userId,
    projectId,
    organizationLevel: found.level,
    organizationMemberId: found.member_id,
    roleIds: found.role_ids ?? [],
    rows: await projectRows(q, projectId),
  };
}

/** Every access-control row of the project (PostHog preloads them the same way: one read per request). */
function projectRows(q: Queryable, projectId: number): Promise<readonly ResourceRow[]> {
  return readThrough<Array<ResourceRow & { expiresAt: number | null }>>(
    q,
    'access_rows',
    String(projectId),
    async () => {
      const rows = await q.query<{
        resource: string;
        access_level: AccessLevel;
        resource_id: string | null;
        organization_member_id: string | null;
        role_id: string | null;
        expires_at: Date | null;
      }>(`SELECT resource, access_level, resource_id, organization_member_id::text, role_id::text, expires_at FROM access_controls WHERE team_id = $1`, [
        projectId,
      ]);
      return rows.map((r) => ({
        resource: r.resource as AccessControlResource,
        accessLevel: r.access_level,
        resourceId: r.resource_id,
        organizationMemberId: r.organization_member_id,
        roleId: r.role_id,
        expiresAt: r.expires_at ? new Date(r.expires_at).getTime() : null,
      }));
    },
    () => [`project:${projectId}`],
    (rows) => rows.reduce<number | null>((min, r) => (r.expiresAt !== null && (min === null || r.expiresAt < min) ? r.expiresAt : min), null),
  );
}

/** The actor's level on the resource type (lists, creation) or on one object. */
export function accessLevel(actor: ResourceActor, resource: AccessControlResource, object: AccessObject | null = null): AccessResolution {
  return accessFor(actor, resource, object);
}

/** Throws PostHog's 403 unless the actor may `action` the resource type, or the object when given; answers the level. */
export function requireAccess(
  actor: ResourceActor,
  resource: AccessControlResource,
  action: 'read' | 'write',
  object: AccessObject | null = null,
): AccessLevel {
  const { level } = accessFor(actor, resource, object);
  if (object !== null) {
    const decision = objectGate(actor, resource, action, object);
    if (!decision.allow) throw permissionDenied(decision.detail);
    return level;
  }
  const need = requiredLevel(resource, action);
  if (!satisfies(resource, level, need)) throw permissionDenied(accessDeniedMessage(need));
  return level;
}

/** What a list shows of these objects (src/access/access-control.ts, visibleObjects). */
export function visibleTo<T extends AccessObject>(actor: ResourceActor, resource: AccessControlResource, objects: readonly T[]): T[] {
  return visibleObjects(actor, resource, objects);
}

/**
 * Does the actor see every object of the resource alike? Yes when no rule names one object and the
 * resource-wide level is enough to view (a creator's own objects only add): lists can then be paged
 * by the database without deciding object by object.
 */
export function seesEveryObject(actor: ResourceActor, resource: AccessControlResource): boolean {
  if (actor.rows.some((r) => r.resource === resource && r.resourceId !== null)) return false;
  return satisfies(resource, resourceAccess(actor, resource).level, requiredLevel(resource, 'read'));
}
