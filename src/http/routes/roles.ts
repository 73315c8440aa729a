import { Type, type Static } from '@sinclair/typebox';
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
} from '../../domain/roles.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers/roles.js';
import { OrgParams, routeOrganization } from './organizations.js';

/*
 * PostHog's RoleViewSet and RoleMembershipViewSet declare scope_object = "organization": keys need
 * organization:read to read roles and organization:write to change them. Members may read; admins
 * and owners write (OrganizationAdminWritePermissions), which the domain enforces.
 */
const RoleParams = Type.Object({ organization_id: Type.String(), role_id: Type.String() });
const RoleMembershipParams = Type.Object({ organization_id: Type.String(), role_id: Type.String(), membership_id: Type.String() });
const RoleCreate = Type.Object({ name: Type.String() }, { additionalProperties: false });
const RolePatch = Type.Object({ name: Type.Optional(Type.String()) }, { additionalProperties: false });
const RoleMembershipCreate = Type.Object({ user_uuid: Type.String() }, { additionalProperties: false });

const ROLES = '/api/organizations/:organization_id/roles/';
const ROLE = `${ROLES}:role_id/`;
const MEMBERSHIPS = `${ROLE}role_memberships/`;

export function roleRoutes(app: FastifyInstance, { db }: Deps): void {
  const read = { access: scoped('organization', 'read') };
  const write = { access: scoped('organization', 'write') };

  app.get(ROLES, { config: read, schema: { params: OrgParams } }, async (request) => {
    const { record } = routeOrganization(request);
    const page = readPage(request);
    const { count, rows } = await listRoles(db, record.id, page);
    return paginated(request, page, count, rows.map(show.role));
  });

  app.post(ROLES, { config: write, schema: { params: OrgParams, body: RoleCreate } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { name } = request.body as Static<typeof RoleCreate>;
    const role = await db.transaction((tx) => createRole(tx, actorOf(request), record.id, name));
    return reply.code(201).send(show.role(role));
  });

  app.get(ROLE, { config: read, schema: { params: RoleParams } }, async (request) => {
    const { record } = routeOrganization(request);
    const { role_id } = request.params as Static<typeof RoleParams>;
    return show.role(await getRole(db, record.id, role_id));
  });

  for (const [method, body] of [
    ['PATCH', RolePatch],
    ['PUT', RoleCreate],
  ] as const) {
    app.route({
      method,
      url: ROLE,
      config: write,
      schema: { params: RoleParams, body },
      handler: async (request) => {
        const { record } = routeOrganization(request);
        const { role_id } = request.params as Static<typeof RoleParams>;
        const patch = request.body as Static<typeof RolePatch>;
        return show.role(await db.transaction((tx) => updateRole(tx, actorOf(request), record.id, role_id, patch)));
      },
    });
  }

  app.delete(ROLE, { config: write, schema: { params: RoleParams } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { role_id } = request.params as Static<typeof RoleParams>;
    await db.transaction((tx) => deleteRole(tx, actorOf(request), record.id, role_id));
    return reply.code(204).send();
  });

  app.get(MEMBERSHIPS, { config: read, schema: { params: RoleParams } }, async (request) => {
    const { record } = routeOrganization(request);
    const { role_id } = request.params as Static<typeof RoleParams>;
    const page = readPage(request);
    const { count, rows } = await listRoleMemberships(db, record.id, role_id, page);
    return paginated(request, page, count, rows.map(show.roleMembership));
  });

  app.post(MEMBERSHIPS, { config: write, schema: { params: RoleParams, body: RoleMembershipCreate } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { role_id } = request.params as Static<typeof RoleParams>;
    const { user_uuid } = request.body as Static<typeof RoleMembershipCreate>;
    const row = await db.transaction((tx) => addRoleMember(tx, actorOf(request), record.id, role_id, user_uuid));
    return reply.code(201).send(show.roleMembership(row));
  });

  app.get(`${MEMBERSHIPS}:membership_id/`, { config: read, schema: { params: RoleMembershipParams } }, async (request) => {
    const { record } = routeOrganization(request);
    const { role_id, membership_id } = request.params as Static<typeof RoleMembershipParams>;
    return show.roleMembership(await getRoleMembership(db, record.id, role_id, membership_id));
  });

  app.delete(`${MEMBERSHIPS}:membership_id/`, { config: write, schema: { params: RoleMembershipParams } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { role_id, membership_id } = request.params as Static<typeof RoleMembershipParams>;
    await db.transaction((tx) => removeRoleMember(tx, actorOf(request), record.id, role_id, membership_id));
    return reply.code(204).send();
  });
}
