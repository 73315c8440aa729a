import { objectGate, resourceAccess, requiredLevel, satisfies, type AccessObject } from '../access/access-control.js';
import type { AccessControlResource } from '../access/resources.js';
import type { Queryable } from '../store/database.js';
import type { ActivityRow } from './activity-log.js';
import { loadResourceActor, type ResourceActor } from './resource-access.js';

/** The activity scopes that are about a resource under access control, and the table of its objects. */
const GATED: Record<string, { resource: AccessControlResource; table: string | null }> = {
  FeatureFlag: { resource: 'feature_flag', table: 'feature_flags' },
  Insight: { resource: 'insight', table: 'insights' },
  Dashboard: { resource: 'dashboard', table: 'dashboards' },
  Replay: { resource: 'session_recording', table: null },
  Event: { resource: 'event', table: null },
};

/**
 * Reading an object's history passes the object's gate: an entry about an object (or, without an
 * item, a resource type) the reader may not view keeps its who, what and when, and loses its detail
 * (the name, the before/after changes, the context). Organization admins see everything.
 */
export async function redactForReader(q: Queryable, rows: readonly ActivityRow[], userId: number): Promise<ActivityRow[]> {
  const gated = rows.filter((r) => r.team_id !== null && GATED[r.scope] !== undefined);
  if (gated.length === 0) return [...rows];
  const facts = new Map<number, ResourceActor | undefined>();
  for (const projectId of new Set(gated.map((r) => r.team_id!))) facts.set(projectId, await loadResourceActor(q, projectId, userId));
  const creators = await creatorsOf(q, gated);
  return rows.map((row) => {
    const gate = row.team_id === null ? undefined : GATED[row.scope];
    if (!gate) return row;
    const actor = facts.get(row.team_id!);
    return actor && mayView(actor, gate.resource, row, creators) ? row : { ...row, detail: null };
  });
}

function mayView(actor: ResourceActor, resource: AccessControlResource, row: ActivityRow, creators: Map<string, number | null>): boolean {
  if (row.item_id === null) return satisfies(resource, resourceAccess(actor, resource).level, requiredLevel(resource, 'read'));
  const object: AccessObject = { id: row.item_id, created_by_id: creators.get(`${row.scope}:${row.team_id}:${row.item_id}`) ?? null };
  return objectGate(actor, resource, 'read', object).allow;
}

/** Who created each object the entries name (deleted ones too), keyed by scope, project and item. */
async function creatorsOf(q: Queryable, rows: readonly ActivityRow[]): Promise<Map<string, number | null>> {
  const creators = new Map<string, number | null>();
  for (const [scope, { table }] of Object.entries(GATED)) {
    if (!table) continue;
    const mine = rows.filter((r) => r.scope === scope && r.item_id !== null && /^\d{1,9}$/.test(r.item_id));
    if (mine.length === 0) continue;
    const found = await q.query<{ team_id: number; id: number; created_by_id: number | null }>(
      `SELECT team_id, id, created_by_id FROM ${table} WHERE team_id = ANY($1::int[]) AND id = ANY($2::int[])`,
      [[...new Set(mine.map((r) => r.team_id!))], [...new Set(mine.map((r) => Number(r.item_id)))]],
    );
    for (const f of found) creators.set(`${scope}:${f.team_id}:${f.id}`, f.created_by_id);
  }
  return creators;
}

/** The projects among these whose activity log the reader may view (PostHog's `activity_log` access). */
export async function projectsWithActivityAccess(q: Queryable, projectIds: readonly number[], userId: number): Promise<number[]> {
  const allowed: number[] = [];
  for (const projectId of projectIds) {
    const actor = await loadResourceActor(q, projectId, userId);
    if (actor && satisfies('activity_log', resourceAccess(actor, 'activity_log').level, 'viewer')) allowed.push(projectId);
  }
  return allowed;
}
