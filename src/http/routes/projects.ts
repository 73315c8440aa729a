import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { createProjectAsMember, deleteProject, listVisibleProjects, updateProject } from '../../domain/projects.js';
import type { ProjectRecord } from '../../domain/records.js';
import { currentUser, actorOf, reachesOrganization, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers.js';
import { OrgParams, routeOrganization } from './organizations.js';

export const ProjectParams = Type.Object({ project_id: Type.String() });
const ProjectCreate = Type.Object(
  {
    name: Type.String(),
    access_control: Type.Optional(Type.Boolean()),
    timezone: Type.Optional(Type.String({ maxLength: 64 })),
    product_description: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
  },
  { additionalProperties: false },
);
const ProjectPatch = Type.Object(
  {
    name: Type.Optional(Type.String()),
    access_control: Type.Optional(Type.Boolean()),
    timezone: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

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
  app.get(
    '/api/organizations/:organization_id/projects/',
    { config: { access: scoped('project', 'read') }, schema: { params: OrgParams } },
    async (request) => {
      const { record } = routeOrganization(request);
      const page = readPage(request);
      const projects = (await listVisibleProjects(db, currentUser(request).id, record.id)).filter((p) => keyMaySee(request, p));
      const results = projects.slice(page.offset, page.offset + page.limit).map((p) => show.project(p, p.effective_level));
      return paginated(request, page, projects.length, results);
    },
  );

  app.post(
    '/api/organizations/:organization_id/projects/',
    { config: { access: scoped('project', 'write') }, schema: { params: OrgParams, body: ProjectCreate } },
    async (request, reply) => {
      const { record, membership } = routeOrganization(request);
      const body = request.body as Static<typeof ProjectCreate>;
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

  app.get('/api/projects/', { config: { access: scoped('project', 'read') } }, async (request) => {
    const user = currentUser(request);
    const page = readPage(request);
    const organizationId = user.current_organization_id ?? undefined;
    const projects = (await listVisibleProjects(db, user.id, organizationId)).filter((p) => keyMaySee(request, p));
    const results = projects.slice(page.offset, page.offset + page.limit).map((p) => show.project(p, p.effective_level));
    return paginated(request, page, projects.length, results);
  });

  app.get('/api/projects/:project_id/', { config: { access: scoped('project', 'read') }, schema: { params: ProjectParams } }, async (request) => {
    const { project, effectiveLevel } = routeProject(request);
    return show.project(project, effectiveLevel);
  });

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: '/api/projects/:project_id/',
      config: { access: scoped('project', 'write') },
      schema: { params: ProjectParams, body: ProjectPatch },
      handler: async (request) => {
        const { project } = routeProject(request);
        const patch = request.body as Static<typeof ProjectPatch>;
        const updated = await db.transaction((tx) => updateProject(tx, actorOf(request), project.id, patch));
        return show.project(updated, routeProject(request).effectiveLevel);
      },
    });
  }

  app.delete(
    '/api/projects/:project_id/',
    { config: { access: scoped('project', 'write') }, schema: { params: ProjectParams } },
    async (request, reply) => {
      await db.transaction((tx) => deleteProject(tx, actorOf(request), routeProject(request).project.id));
      return reply.code(204).send();
    },
  );
}
