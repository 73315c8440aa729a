import type { FastifyRequest } from 'fastify';
import { notFound } from '../domain/errors.js';
import { loadResourceActor, type ResourceActor } from '../domain/access-control/resource-access.js';
import type { Queryable } from '../store/database.js';

/**
 * The caller as the resource gate sees them, in the project the guard resolved: the facts the guard
 * loaded for a route that declares its resource, else loaded here (approvals, local evaluation).
 */
export async function resourceActor(q: Queryable, request: FastifyRequest): Promise<ResourceActor> {
  if (request.ctx.resource) return request.ctx.resource;
  const project = request.ctx.project;
  const user = request.ctx.user;
  const actor = project && user ? await loadResourceActor(q, project.project.id, user.id) : undefined;
  if (!actor) throw notFound('Project not found.');
  return actor;
}
