import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { countMembers, createOrganization, deleteOrganization, listOrganizationsOfUser, updateOrganization } from '../../domain/organizations/organizations.js';
import { countMembersWithoutSecondFactor } from '../../domain/identity/second-factor-rule.js';
import { ssoEnforcementOf } from '../../domain/sso/organization-domains.js';
import { listVisibleProjects } from '../../domain/organizations/projects.js';
import type { OrganizationRecord } from '../../domain/records.js';
import type { Queryable } from '../../store/database.js';
import { actorOf, currentUser, reachesOrganization, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers.js';
import { NoContent } from '../schemas/common.js';
import { OrgCreate, Organization, OrganizationList, OrgParams, OrgPatch } from '../schemas/organizations.js';

// Other route files import the organization's params from here.
export { OrgParams };

export async function organizationView(q: Queryable, org: OrganizationRecord, userId: number, level: number) {
  const [memberCount, projects, ssoEnforcement, membersWithout2fa] = await Promise.all([
    countMembers(q, org.id),
    listVisibleProjects(q, userId, org.id),
    ssoEnforcementOf(q, org.id),
    countMembersWithoutSecondFactor(q, org.id),
  ]);
  return show.organization(org, { level, memberCount, projects, ssoEnforcement, membersWithout2fa });
}

/** The organization the guard resolved for this request. */
export function routeOrganization(request: FastifyRequest) {
  return request.ctx.organization!;
}

export function organizationRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/api/organizations/', { config: { access: scoped('organization', 'read') }, schema: { response: { 200: OrganizationList } } }, async (request) => {
    const user = currentUser(request);
    const page = readPage(request);
    const all = (await listOrganizationsOfUser(db, user.id)).filter((o) => reachesOrganization(request, o.id));
    const slice = all.slice(page.offset, page.offset + page.limit);
    const results = [];
    for (const org of slice) results.push(await organizationView(db, org, user.id, org.level));
    return paginated(request, page, all.length, results);
  });

  api.post(
    '/api/organizations/',
    { config: { access: scoped('organization', 'write') }, schema: { body: OrgCreate, response: { 201: Organization } } },
    async (request, reply) => {
      const user = currentUser(request);
      const { name } = request.body;
      const { organization } = await db.transaction((tx) => createOrganization(tx, actorOf(request), user, name));
      return reply.code(201).send(await organizationView(db, organization, user.id, 15));
    },
  );

  api.get(
    '/api/organizations/:organization_id/',
    { config: { access: scoped('organization', 'read') }, schema: { params: OrgParams, response: { 200: Organization } } },
    async (request) => {
      const { record, membership } = routeOrganization(request);
      return organizationView(db, record, membership.user_id, membership.level);
    },
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    api.route({
      method,
      url: '/api/organizations/:organization_id/',
      config: { access: scoped('organization', 'write') },
      schema: { params: OrgParams, body: OrgPatch, response: { 200: Organization } },
      handler: async (request) => {
        const { record, membership } = routeOrganization(request);
        const patch = request.body;
        const updated = await db.transaction((tx) => updateOrganization(tx, actorOf(request), record.id, patch));
        return organizationView(db, updated, membership.user_id, membership.level);
      },
    });
  }

  api.delete(
    '/api/organizations/:organization_id/',
    { config: { access: scoped('organization', 'write') }, schema: { params: OrgParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { record } = routeOrganization(request);
      await db.transaction((tx) => deleteOrganization(tx, actorOf(request), record.id));
      return reply.code(204).send();
    },
  );
}
