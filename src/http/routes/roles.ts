import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import {
  addRoleMember,
  createRole,
  deleteRole,
  getRole,
  getRoleMembership,
  listRoleMemberships,
  listRoles,
  removeRoleMember,
  updateRole,
} from '../../domain/access-control/roles.js';
import { grantTermsFrom } from '../../domain/access-control/grant-terms.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers/roles.js';
import { NoContent } from '../schemas/common.js';
import { OrgParams } from '../schemas/organizations.js';
import {
  Role,
  RoleCreate,
  RoleList,
  RoleMembership,
  RoleMembershipCreate,
  RoleMembershipList,
  RoleMembershipParams,
  RoleParams,
  RolePatch,
} from '../schemas/roles.js';
import { routeOrganization } from './organizations.js';

/*
 * PostHog's RoleViewSet and RoleMembershipViewSet declare scope_object = "organization": keys need
 * organization:read to read roles and organization:write to change them. Members may read; admins
 * and owners write (OrganizationAdminWritePermissions), which the domain enforces.
 */
const ROLES = '/api/organizations/:organization_id/roles/';
const ROLE = `${ROLES}:role_id/`;
const MEMBERSHIPS = `${ROLE}role_memberships/`;

export function roleRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const read = { access: scoped('organization', 'read') };
  const write = { access: scoped('organization', 'write') };

  api.get(ROLES, { config: read, schema: { params: OrgParams, response: { 200: RoleList } } }, async (request) => {
    const { record } = routeOrganization(request);
    const page = readPage(request);
    const { count, rows } = await listRoles(db, record.id, page);
    return paginated(request, page, count, rows.map(show.role));
  });

  api.post(ROLES, { config: write, schema: { params: OrgParams, body: RoleCreate, response: { 201: Role } } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { name } = request.body;
    const role = await db.transaction((tx) => createRole(tx, actorOf(request), record.id, name));
    return reply.code(201).send(show.role(role));
  });

  api.get(ROLE, { config: read, schema: { params: RoleParams, response: { 200: Role } } }, async (request) => {
    const { record } = routeOrganization(request);
    const { role_id } = request.params;
    return show.role(await getRole(db, record.id, role_id));
  });

  for (const [method, body] of [
    ['PATCH', RolePatch],
    ['PUT', RoleCreate],
  ] as const) {
    api.route({
      method,
      url: ROLE,
      config: write,
      schema: { params: RoleParams, body, response: { 200: Role } },
      handler: async (request) => {
        const { record } = routeOrganization(request);
        const { role_id } = request.params;
        const patch = request.body;
        return show.role(await db.transaction((tx) => updateRole(tx, actorOf(request), record.id, role_id, patch)));
      },
    });
  }

  api.delete(ROLE, { config: write, schema: { params: RoleParams, response: { 204: NoContent } } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { role_id } = request.params;
    await db.transaction((tx) => deleteRole(tx, actorOf(request), record.id, role_id));
    return reply.code(204).send();
  });

  api.get(MEMBERSHIPS, { config: read, schema: { params: RoleParams, response: { 200: RoleMembershipList } } }, async (request) => {
    const { record } = routeOrganization(request);
    const { role_id } = request.params;
    const page = readPage(request);
    const { count, rows } = await listRoleMemberships(db, record.id, role_id, page);
    return paginated(request, page, count, rows.map(show.roleMembership));
  });

  api.post(
    MEMBERSHIPS,
    { config: write, schema: { params: RoleParams, body: RoleMembershipCreate, response: { 201: RoleMembership } } },
    async (request, reply) => {
      const { record } = routeOrganization(request);
      const { role_id } = request.params;
      const { user_uuid } = request.body;
      const terms = grantTermsFrom(request.body);
      const row = await db.transaction((tx) => addRoleMember(tx, actorOf(request), record.id, role_id, user_uuid, terms));
      return reply.code(201).send(show.roleMembership(row));
    },
  );

  api.get(`${MEMBERSHIPS}:membership_id/`, { config: read, schema: { params: RoleMembershipParams, response: { 200: RoleMembership } } }, async (request) => {
    const { record } = routeOrganization(request);
    const { role_id, membership_id } = request.params;
    return show.roleMembership(await getRoleMembership(db, record.id, role_id, membership_id));
  });

  api.delete(
    `${MEMBERSHIPS}:membership_id/`,
    { config: write, schema: { params: RoleMembershipParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { record } = routeOrganization(request);
      const { role_id, membership_id } = request.params;
      await db.transaction((tx) => removeRoleMember(tx, actorOf(request), record.id, role_id, membership_id));
      return reply.code(204).send();
    },
  );
}
