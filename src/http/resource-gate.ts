import type { FastifyRequest } from 'fastify';
import { objectGate, routeGate, type AccessObject } from '../access/access-control.js';
import type { AccessControlResource } from '../access/resources.js';
import { createsObject, type RouteAccess } from '../access/route-access.js';
import { getDashboard } from '../domain/analytics/dashboards.js';
import { notFound, permissionDenied } from '../domain/errors.js';
import { parseFlagId, requireFeatureFlag } from '../domain/analytics/feature-flags.js';
import { findInsight } from '../domain/analytics/insights.js';
import { loadResourceActor } from '../domain/access-control/resource-access.js';
import { asAccessObject, getRecording } from '../domain/analytics/session-recordings.js';
import type { Queryable } from '../store/database.js';
import { isStorableText } from './storable-text.js';

type ObjectLoader = (q: Queryable, projectId: number, id: string) => Promise<AccessObject>;

/** How the gate finds the object a route names, per resource (deleted ones too: restoring needs the check as well). */
const OBJECTS: Partial<Record<AccessControlResource, ObjectLoader>> = {
  feature_flag: (q, projectId, id) => requireFeatureFlag(q, projectId, parseFlagId(id)),
  insight: (q, projectId, id) => findInsight(q, projectId, id, { includeDeleted: true }),
  dashboard: (q, projectId, id) => getDashboard(q, projectId, id, { includeDeleted: true }),
  session_recording: async (q, projectId, id) => asAccessObject(await getRecording(q, projectId, id)),
};

/**
 * The object gate, run by the guard for every route that declares the resource it serves: loads the
 * caller's resource facts once (kept on the request for the domain), then asks the rules whether
 * the caller may use the route at all and, when the route names an object, that object.
 */
export async function gateResource(db: Queryable, request: FastifyRequest, access: RouteAccess): Promise<void> {
  if (access.kind !== 'scoped' || !access.serves) return;
  const project = request.ctx.project;
  const user = request.ctx.user;
  if (!project || !user) throw notFound('Project not found.');
  const facts = await loadResourceActor(db, project.project.id, user.id);
  if (!facts) throw notFound('Project not found.');
  request.ctx.resource = facts;
  const { resource, object } = access.serves;
  const allowed = routeGate(facts, resource, access.action, createsObject(access));
  if (!allowed.allow) throw permissionDenied(allowed.detail);
  if (object === undefined) return;
  const load = OBJECTS[resource];
  const id = (request.params as Record<string, string | undefined>)[object];
  if (!load || id === undefined) throw new Error(`route ${request.routeOptions.url} names object ${object} of ${resource}, which the gate cannot load`);
  // An id Postgres cannot even store names no object (and must not reach a query).
  if (!isStorableText(id)) throw notFound();
  const decision = objectGate(facts, resource, access.action, await load(db, project.project.id, id));
  if (!decision.allow) throw permissionDenied(decision.detail);
}
