import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { scoped } from '../../access/route-access.js';
import {
  countMembers,
  createOrganization,
  deleteOrganization,
  listOrganizationsOfUser,
  updateOrganization,
} from '../../domain/organizations.js';
import { countMembersWithoutSecondFactor } from '../../domain/second-factor-rule.js';
import { ssoEnforcementOf } from '../../domain/organization-domains.js';
import { listVisibleProjects } from '../../domain/projects.js';
import type { OrganizationRecord } from '../../domain/records.js';
import type { Queryable } from '../../store/database.js';
import { actorOf, currentUser, reachesOrganization, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers.js';

export const OrgParams = Type.Object({ organization_id: Type.String() });
const OrgCreate = Type.Object({ name: Type.String() }, { additionalProperties: false });
const OrgPatch = Type.Object(
  {
    name: Type.Optional(Type.String()),
    members_can_invite: Type.Optional(Type.Boolean()),
    members_can_use_personal_api_keys: Type.Optional(Type.Boolean()),
    enforce_2fa: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    is_member_join_email_enabled: Type.Optional(Type.Boolean()),
    allow_publicly_shared_resources: Type.Optional(Type.Boolean()),
    personal_api_keys_max_lifetime_days: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    personal_api_keys_allowed_scopes: Type.Optional(Type.Union([Type.Array(Type.String({ maxLength: 100 }), { maxItems: 300 }), Type.Null()])),
    activity_log_retention_days: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    log_sensitive_reads: Type.Optional(Type.Boolean()),
    default_role_id: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
    session_cookie_age: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    session_idle_timeout: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  },
  { additionalProperties: false },
);

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
  app.get('/api/organizations/', { config: { access: scoped('organization', 'read') } }, async (request) => {
    const user = currentUser(request);
    const page = readPage(request);
    const all = (await listOrganizationsOfUser(db, user.id)).filter((o) => reachesOrganization(request, o.id));
    const slice = all.slice(page.offset, page.offset + page.limit);
    const results = [];
    for (const org of slice) results.push(await organizationView(db, org, user.id, org.level));
    return paginated(request, page, all.length, results);
  });

  app.post('/api/organizations/', { config: { access: scoped('organization', 'write') }, schema: { body: OrgCreate } }, async (request, reply) => {
    const user = currentUser(request);
    const { name } = request.body as Static<typeof OrgCreate>;
    const { organization } = await db.transaction((tx) => createOrganization(tx, actorOf(request), user, name));
    return reply.code(201).send(await organizationView(db, organization, user.id, 15));
  });

  app.get(
    '/api/organizations/:organization_id/',
    { config: { access: scoped('organization', 'read') }, schema: { params: OrgParams } },
    async (request) => {
      const { record, membership } = routeOrganization(request);
      return organizationView(db, record, membership.user_id, membership.level);
    },
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: '/api/organizations/:organization_id/',
      config: { access: scoped('organization', 'write') },
      schema: { params: OrgParams, body: OrgPatch },
      handler: async (request) => {
        const { record, membership } = routeOrganization(request);
        const patch = request.body as Static<typeof OrgPatch>;
        const updated = await db.transaction((tx) => updateOrganization(tx, actorOf(request), record.id, patch));
        return organizationView(db, updated, membership.user_id, membership.level);
      },
    });
  }

  app.delete(
    '/api/organizations/:organization_id/',
    { config: { access: scoped('organization', 'write') }, schema: { params: OrgParams } },
    async (request, reply) => {
      const { record } = routeOrganization(request);
      await db.transaction((tx) => deleteOrganization(tx, actorOf(request), record.id));
      return reply.code(204).send();
    },
  );
}
