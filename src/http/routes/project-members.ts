import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { grantTermsFrom } from '../../domain/access-control/grant-terms.js';
import { validation } from '../../domain/errors.js';
import {
  addProjectMember,
  listProjectMembers,
  removeProjectMember,
  updateProjectMember,
  type UserReference,
} from '../../domain/access-control/project-members.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers.js';
import { NoContent } from '../schemas/common.js';
import {
  ExplicitMember,
  ExplicitMemberList,
  ProjectMember,
  ProjectMemberAdd,
  ProjectMemberLevel,
  ProjectMemberList,
  ProjectMemberParams,
} from '../schemas/project-members.js';
import { ProjectParams } from '../schemas/projects.js';
import { routeProject } from './projects.js';

/** `user_uuid`, or the source document's `user_id` (a uuid or a numeric id). */
function userReference(body: ProjectMemberAdd): UserReference {
  const ref = body.user_uuid ?? body.user_id;
  if (ref === undefined) throw validation('This field is required.', 'user_uuid', 'required');
  if (typeof ref === 'number') return { id: ref };
  if (/^\d{1,9}$/.test(ref)) return { id: Number(ref) };
  return { uuid: ref };
}

/**
 * Explicit project membership through both route families over one set of data: the source
 * document's `members/` (paginated) and PostHog's `explicit_members/` (a plain array).
 */
export function projectMemberRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const read = { access: scoped('project', 'read') };
  api.get('/api/projects/:project_id/members/', { config: read, schema: { params: ProjectParams, response: { 200: ProjectMemberList } } }, async (request) => {
    const rows = (await listProjectMembers(db, routeProject(request).project.id)).map(show.projectMember);
    const page = readPage(request);
    return paginated(request, page, rows.length, rows.slice(page.offset, page.offset + page.limit));
  });
  api.get(
    '/api/projects/:project_id/explicit_members/',
    { config: read, schema: { params: ProjectParams, response: { 200: ExplicitMemberList } } },
    async (request) => (await listProjectMembers(db, routeProject(request).project.id)).map(show.explicitMember),
  );

  const families = [
    { path: 'members', show: show.projectMember, item: ProjectMember },
    { path: 'explicit_members', show: show.explicitMember, item: ExplicitMember },
  ] as const;
  for (const family of families) {
    const base = `/api/projects/:project_id/${family.path}/`;
    api.post(
      base,
      { config: { access: scoped('project', 'write') }, schema: { params: ProjectParams, body: ProjectMemberAdd, response: { 201: family.item } } },
      async (request, reply) => {
        const body = request.body;
        const terms = grantTermsFrom(body);
        const row = await db.transaction((tx) =>
          addProjectMember(tx, actorOf(request), routeProject(request).project.id, userReference(body), body.level, terms),
        );
        return reply.code(201).send(family.show(row));
      },
    );

    for (const method of ['PATCH', 'PUT'] as const) {
      api.route({
        method,
        url: `${base}:user_uuid/`,
        config: { access: scoped('project', 'write') },
        schema: { params: ProjectMemberParams, body: ProjectMemberLevel, response: { 200: family.item } },
        handler: async (request) => {
          const { user_uuid } = request.params;
          const { level } = request.body;
          const terms = grantTermsFrom(request.body);
          const row = await db.transaction((tx) => updateProjectMember(tx, actorOf(request), routeProject(request).project.id, user_uuid, level, terms));
          return family.show(row);
        },
      });
    }

    api.delete(
      `${base}:user_uuid/`,
      { config: { access: scoped('project', 'write') }, schema: { params: ProjectMemberParams, response: { 204: NoContent } } },
      async (request, reply) => {
        const { user_uuid } = request.params;
        await db.transaction((tx) => removeProjectMember(tx, actorOf(request), routeProject(request).project.id, user_uuid));
        return reply.code(204).send();
      },
    );
  }
}
