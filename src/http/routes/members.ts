import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { listMembers, removeMember, updateMemberLevel } from '../../domain/members.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers.js';
import { OrgParams, routeOrganization } from './organizations.js';

const MemberParams = Type.Object({ organization_id: Type.String(), user_uuid: Type.String() });
const MemberQuery = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 200 })),
  email: Type.Optional(Type.String({ maxLength: 254 })),
  limit: Type.Optional(Type.String()),
  offset: Type.Optional(Type.String()),
  order: Type.Optional(Type.String()),
});
const MemberPatch = Type.Object({ level: Type.Integer() }, { additionalProperties: false });

export function memberRoutes(app: FastifyInstance, { db }: Deps): void {
  app.get(
    '/api/organizations/:organization_id/members/',
    { config: { access: scoped('organization_member', 'read') }, schema: { params: OrgParams, querystring: MemberQuery } },
    async (request) => {
      const { record } = routeOrganization(request);
      const query = request.query as Static<typeof MemberQuery>;
      const page = readPage(request);
      const { count, rows } = await listMembers(db, record.id, {
        ...(query.search ? { search: query.search } : {}),
        ...(query.email ? { email: query.email } : {}),
        ...page,
      });
      return paginated(request, page, count, rows.map(show.member));
    },
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: '/api/organizations/:organization_id/members/:user_uuid/',
      config: { access: scoped('organization_member', 'write') },
      schema: { params: MemberParams, body: MemberPatch },
      handler: async (request) => {
        const { record } = routeOrganization(request);
        const { user_uuid } = request.params as Static<typeof MemberParams>;
        const { level } = request.body as Static<typeof MemberPatch>;
        const row = await db.transaction((tx) => updateMemberLevel(tx, actorOf(request), record.id, user_uuid, level));
        return show.member(row);
      },
    });
  }

  app.delete(
    '/api/organizations/:organization_id/members/:user_uuid/',
    { config: { access: scoped('organization_member', 'write') }, schema: { params: MemberParams } },
    async (request, reply) => {
      const { record } = routeOrganization(request);
      const { user_uuid } = request.params as Static<typeof MemberParams>;
      await db.transaction((tx) => removeMember(tx, actorOf(request), record.id, user_uuid));
      return reply.code(204).send();
    },
  );
}
