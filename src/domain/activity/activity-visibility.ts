import { objectGate, resourceAccess, requiredLevel, satisfies, type AccessObject } from '../../access/access-control.js';
import { ACCESS_CONTROL_RESOURCES, type AccessControlResource } from '../../access/resources.js';
import type { Queryable } from '../../store/database.js';
import type { ActivityRow } from './activity-log.js';
import { loadResourceActor, type ResourceActor } from '../access-control/resource-access.js';

/** The activity scopes that are about a resource under access control. */
const GATED_SCOPES: Record<string, AccessControlResource> = {
  FeatureFlag: 'feature_flag',
  Insight: 'insight',
  Dashboard: 'dashboard',
  Replay: 'session_recording',
  Event: 'event',
};

/** Scopes whose entries name the object they concern in their context (a rule on it, a change request for it). */
const ABOUT_AN_OBJECT = new Set(['AccessControl', 'ChangeRequest']);

/** The tables of the objects whose creators count in the gate. */
const OBJECT_TABLES: Partial<Record<AccessControlResource, string>> = {
  feature_flag: 'feature_flags',
  insight: 'insights',
  dashboard: 'dashboards',
};

/** What an entry is about, for the gate: a resource type and (null = the type as a whole) one object of it. */
interface Subject {
  resource: AccessControlResource;
  objectId: string | null;
}

function subjectOf(row: ActivityRow): Subject | null {
  if (row.team_id === null) return null;
  const gated = GATED_SCOPES[row.scope];
  if (gated) return { resource: gated, objectId: row.item_id };
  if (!ABOUT_AN_OBJECT.has(row.scope)) return null;
  const context = (row.detail as { context?: { resource?: unknown; resource_id?: unknown } } | null)?.context;
  const resource = context?.resource;
  if (typeof resource !== 'string' || !(ACCESS_CONTROL_RESOURCES as readonly string[]).includes(resource)) return null;
  const id = context?.resource_id;
  return { resource: resource as AccessControlResource, objectId: id === null || id === undefined ? null : String(id) };
}

/**
 * Reading an object's history passes the object's gate: an entry about an object (or, without one,
 * a resource type) the reader may not view keeps its who, what and when, and loses its detail (the
 * name, the before/after changes, the context). That holds for the object's own entries and for
 * entries that name it (a rule set on it, a change requested for it). Organization admins see everything.
 */
export async function redactForReader(q: Queryable, rows: readonly ActivityRow[], userId: number): Promise<ActivityRow[]> {
  const subjects = rows.map(subjectOf);
  const gated = rows.filter((_, i) => subjects[i] !== null);
  if (gated.length === 0) return [...rows];
  const facts = new Map<number, ResourceActor | undefined>();
  for (const projectId of new Set(gated.map((r) => r.team_id!))) facts.set(projectId, await loadResourceActor(q, projectId, userId));
  const creators = await creatorsOf(q, rows, subjects);
  return rows.map((row, i) => {
    const subject = subjects[i];
    if (!subject) return row;
    const actor = facts.get(row.team_id!);
    return actor && mayView(actor, subject, creators.get(creatorKey(subject, row.team_id!)) ?? null) ? row : { ...row, detail: null };
  });
}

function mayView(actor: ResourceActor, { resource, objectId }: Subject, createdBy: number | null): boolean {
  if (objectId === null) return satisfies(resource, resourceAccess(actor, resource).level, requiredLevel(resource, 'read'));
  const object: AccessObject = { id: objectId, created_by_id: createdBy };
  return objectGate(actor, resource, 'read', object).allow;
}

const creatorKey = (subject: Subject, teamId: number) => `${subject.resource}:${teamId}:${subject.objectId}`;

/** Who created each object the entries are about (deleted ones too), keyed by resource, project and object. */
async function creatorsOf(q: Queryable, rows: readonly ActivityRow[], subjects: ReadonlyArray<Subject | null>): Promise<Map<string, number | null>> {
  const creators = new Map<string, number | null>();
  for (const [resource, table] of Object.entries(OBJECT_TABLES)) {
    const teams = new Set<number>();
    const ids = new Set<number>();
    rows.forEach((row, i) => {
      const subject = subjects[i];
      if (subject?.resource !== resource || !/^\d{1,9}$/.test(subject.objectId ?? '')) return;
      teams.add(row.team_id!);
      ids.add(Number(subject.objectId));
    });
    if (ids.size === 0) continue;
    const found = await q.query<{ team_id: number; id: number; created_by_id: number | null }>(
      `SELECT team_id, id, created_by_id FROM ${table} WHERE team_id = ANY($1::int[]) AND id = ANY($2::int[])`,
      [[...teams], [...ids]],
    );
    for (const f of found) creators.set(`${resource}:${f.team_id}:${f.id}`, f.created_by_id);
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
