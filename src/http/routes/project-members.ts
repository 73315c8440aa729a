import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { validation } from '../../domain/errors.js';
import {
  addProjectMember,
  listProjectMembers,
  removeProjectMember,
  updateProjectMember,
  type UserReference,
} from '../../domain/project-members.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers.js';
import { ProjectParams, routeProject } from './projects.js';

const MemberParams = Type.Object({ project_id: Type.String(), user_uuid: Type.String() });
const AddMember = Type.Object(
  {
    user_id: Type.Optional(Type.Union([Type.String(), Type.Integer()])),
    user_uuid: Type.Optional(Type.String()),
    level: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
const LevelPatch = Type.Object({ level: Type.Integer() }, { additionalProperties: false });

/** `user_uuid`, or the source document's `user_id` (a uuid or a numeric id). */
function userReference(body: Static<typeof AddMember>): UserReference {
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
  const families = [
    { path: 'members', list: 'paginated', show: show.projectMember },
    { path: 'explicit_members', list: 'array', show: show.explicitMember },
  ] as const;
  for (const family of families) {
    const base = `/api/projects/:project_id/${family.path}/`;
    app.get(base, { config: { access: scoped('project', 'read') }, schema: { params: ProjectParams } }, async (request) => {
      const rows = (await listProjectMembers(db, routeProject(request).project.id)).map(family.show);
      if (family.list === 'array') return rows;
      const page = readPage(request);
      return paginated(request, page, rows.length, rows.slice(page.offset, page.offset + page.limit));
    });

    app.post(
      base,
      { config: { access: scoped('project', 'write') }, schema: { params: ProjectParams, body: AddMember } },
      async (request, reply) => {
        const body = request.body as Static<typeof AddMember>;
        const row = await db.transaction((tx) =>
          addProjectMember(tx, actorOf(request), routeProject(request).project.id, userReference(body), body.level),
        );
        return reply.code(201).send(family.show(row));
      },
    );

    for (const method of ['PATCH', 'PUT'] as const) {
      app.route({
        method,
        url: `${base}:user_uuid/`,
        config: { access: scoped('project', 'write') },
        schema: { params: MemberParams, body: LevelPatch },
        handler: async (request) => {
          const { user_uuid } = request.params as Static<typeof MemberParams>;
          const { level } = request.body as Static<typeof LevelPatch>;
          const row = await db.transaction((tx) => updateProjectMember(tx, actorOf(request), routeProject(request).project.id, user_uuid, level));
          return family.show(row);
        },
      });
    }

    app.delete(
      `${base}:user_uuid/`,
      { config: { access: scoped('project', 'write') }, schema: { params: MemberParams } },
      async (request, reply) => {
        const { user_uuid } = request.params as Static<typeof MemberParams>;
        await db.transaction((tx) => removeProjectMember(tx, actorOf(request), routeProject(request).project.id, user_uuid));
        return reply.code(204).send();
      },
    );
  }
}
