import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { grantTermsFrom } from '../../domain/access-control/grant-terms.js';
import { listMembers, removeMember, updateMemberLevel } from '../../domain/organizations/members.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers.js';
import { NoContent, OrgParams } from '../schemas/common.js';
import { Member, MemberList, MemberParams, MemberPatch, MemberQuery } from '../schemas/members.js';
import { routeOrganization } from './organizations.js';

export function memberRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/api/organizations/:organization_id/members/',
    { config: { access: scoped('organization_member', 'read') }, schema: { params: OrgParams, querystring: MemberQuery, response: { 200: MemberList } } },
    async (request) => {
      const { record } = routeOrganization(request);
      const query = request.query;
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
    api.route({
      method,
      url: '/api/organizations/:organization_id/members/:user_uuid/',
      config: { access: scoped('organization_member', 'write') },
      schema: { params: MemberParams, body: MemberPatch, response: { 200: Member } },
      handler: async (request) => {
        const { record } = routeOrganization(request);
        const { user_uuid } = request.params;
        const { level } = request.body;
        const terms = grantTermsFrom(request.body);
        const row = await db.transaction((tx) => updateMemberLevel(tx, actorOf(request), record.id, user_uuid, level, terms));
        return show.member(row);
      },
    });
  }

  api.delete(
    '/api/organizations/:organization_id/members/:user_uuid/',
    { config: { access: scoped('organization_member', 'write') }, schema: { params: MemberParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { record } = routeOrganization(request);
      const { user_uuid } = request.params;
      await db.transaction((tx) => removeMember(tx, actorOf(request), record.id, user_uuid));
      return reply.code(204).send();
    },
  );
}
