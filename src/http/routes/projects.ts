import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { createProjectAsMember, deleteProject, listVisibleProjects, updateProject } from '../../domain/organizations/projects.js';
import type { ProjectRecord } from '../../domain/records.js';
import { currentUser, actorOf, reachesOrganization, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers.js';
import { NoContent } from '../schemas/common.js';
import { OrgParams } from '../schemas/organizations.js';
import { Project, ProjectCreate, ProjectList, ProjectParams, ProjectPatch } from '../schemas/projects.js';
import { routeOrganization } from './organizations.js';

// Other route files import the project's params from here.
export { ProjectParams };

/** The project the guard resolved, with the caller's access. */
export function routeProject(request: FastifyRequest) {
  return request.ctx.project!;
}

/** Projects a key may see: narrowed by its scoped projects and organizations, and by the organizations it reaches. */
function keyMaySee(request: FastifyRequest, p: ProjectRecord): boolean {
  const key = request.ctx.apiKey;
  if (!key) return true;
  return (
    (!key.scoped_teams || key.scoped_teams.includes(p.id)) &&
    (!key.scoped_organizations || key.scoped_organizations.includes(p.organization_id)) &&
    reachesOrganization(request, p.organization_id)
  );
}

export function projectRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/api/organizations/:organization_id/projects/',
    { config: { access: scoped('project', 'read') }, schema: { params: OrgParams, response: { 200: ProjectList } } },
    async (request) => {
      const { record } = routeOrganization(request);
      const page = readPage(request);
      const projects = (await listVisibleProjects(db, currentUser(request).id, record.id)).filter((p) => keyMaySee(request, p));
      const results = projects.slice(page.offset, page.offset + page.limit).map((p) => show.project(p, p.effective_level));
      return paginated(request, page, projects.length, results);
    },
  );

  api.post(
    '/api/organizations/:organization_id/projects/',
    { config: { access: scoped('project', 'write') }, schema: { params: OrgParams, body: ProjectCreate, response: { 201: Project } } },
    async (request, reply) => {
      const { record, membership } = routeOrganization(request);
      const body = request.body;
      const project = await db.transaction((tx) =>
        createProjectAsMember(tx, actorOf(request), record, membership.level, {
          name: body.name,
          accessControl: body.access_control ?? false,
          ...(body.timezone ? { timezone: body.timezone } : {}),
        }),
      );
      return reply.code(201).send(show.project(project, membership.level));
    },
  );

  api.get('/api/projects/', { config: { access: scoped('project', 'read') }, schema: { response: { 200: ProjectList } } }, async (request) => {
    const user = currentUser(request);
    const page = readPage(request);
    const organizationId = user.current_organization_id ?? undefined;
    const projects = (await listVisibleProjects(db, user.id, organizationId)).filter((p) => keyMaySee(request, p));
    const results = projects.slice(page.offset, page.offset + page.limit).map((p) => show.project(p, p.effective_level));
    return paginated(request, page, projects.length, results);
  });

  api.get(
    '/api/projects/:project_id/',
    { config: { access: scoped('project', 'read') }, schema: { params: ProjectParams, response: { 200: Project } } },
    async (request) => {
      const { project, effectiveLevel } = routeProject(request);
      return show.project(project, effectiveLevel);
    },
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    api.route({
      method,
      url: '/api/projects/:project_id/',
      config: { access: scoped('project', 'write') },
      schema: { params: ProjectParams, body: ProjectPatch, response: { 200: Project } },
      handler: async (request) => {
        const { project } = routeProject(request);
        const patch = request.body;
        const updated = await db.transaction((tx) => updateProject(tx, actorOf(request), project.id, patch));
        return show.project(updated, routeProject(request).effectiveLevel);
      },
    });
  }

  api.delete(
    '/api/projects/:project_id/',
    { config: { access: scoped('project', 'write') }, schema: { params: ProjectParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await db.transaction((tx) => deleteProject(tx, actorOf(request), routeProject(request).project.id));
      return reply.code(204).send();
    },
  );
}
