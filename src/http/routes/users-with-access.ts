import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { OrganizationLevel } from '../../access/levels.js';
import { ACCESS_CONTROL_RESOURCES, type AccessControlResource } from '../../access/resources.js';
import { scoped } from '../../access/route-access.js';
import { findAccessObject, OBJECT_RESOURCES, type ObjectResource } from '../../domain/access-control/access-controls.js';
import { notFound } from '../../domain/errors.js';
import { loadResourceActor, requireAccess } from '../../domain/access-control/resource-access.js';
import { isUuid } from '../../domain/identity/users.js';
import { usersWithAccess, type AccessSubject, type UserAccess } from '../../domain/access-control/users-with-access.js';
import { currentUser, type Deps } from '../deps.js';
import { UsersWithAccess, UwaObjectParams, UwaProjectParams, UwaQuery, UwaResourceParams, type UserWithAccess } from '../schemas/users-with-access.js';
import { routeProject } from './projects.js';

/** PostHog's names for the organization levels. */
const levelName = (level: number) => (level >= OrganizationLevel.OWNER ? 'owner' : level >= OrganizationLevel.ADMIN ? 'admin' : 'member');

function show(u: UserAccess): Static<typeof UserWithAccess> {
  return {
    user_id: u.user.uuid,
    user: u.user,
    access_level: u.access_level,
    access_source: u.access_source,
    reason: u.reason,
    organization_membership_id: u.organization_membership_id,
    organization_membership_level: levelName(u.organization_membership_level),
    role_ids: u.role_ids,
    project_access_level: u.project_access_level,
    expires_at: u.expires_at,
    grant_reasons: u.grant_reasons,
    ...(u.resources ? { resources: u.resources } : {}),
  };
}

/**
 * PostHog's `users_with_access`: who has access to a project, to a resource type in it (Warden's
 * addition), or to one object, at which level and why. Reading it takes what reading the rules takes
 * (`access_control:read`, a member of the project; for an object, view access to it, checked by the
 * object gate's rule), as PostHog.
 */
export function usersWithAccessRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const answer = async (projectId: number, subject: AccessSubject, member: string | undefined) => {
    if (member !== undefined && !isUuid(member)) throw notFound('Organization member not found.');
    const users = await usersWithAccess(db, projectId, subject, member === undefined ? {} : { member: member.toLowerCase() });
    return { users: users.map(show), total_count: users.length };
  };
  const response = { 200: UsersWithAccess };

  api.get(
    '/api/projects/:project_id/users_with_access/',
    { config: { access: scoped('access_control', 'read') }, schema: { params: UwaProjectParams, querystring: UwaQuery, response } },
    async (request) => answer(routeProject(request).project.id, { kind: 'project' }, request.query.member),
  );

  api.get(
    '/api/projects/:project_id/users_with_access/:resource/',
    { config: { access: scoped('access_control', 'read') }, schema: { params: UwaResourceParams, querystring: UwaQuery, response } },
    async (request) => {
      const resource = request.params.resource;
      if (!(ACCESS_CONTROL_RESOURCES as readonly string[]).includes(resource)) throw notFound('Access controls are not available for this resource type.');
      return answer(routeProject(request).project.id, { kind: 'resource', resource: resource as AccessControlResource }, request.query.member);
    },
  );

  for (const [resource, { path }] of Object.entries(OBJECT_RESOURCES) as Array<[ObjectResource, (typeof OBJECT_RESOURCES)[ObjectResource]]>) {
    api.get(
      `/api/projects/:project_id/${path}/:id/users_with_access/`,
      {
        config: { access: scoped('access_control', 'read') },
        schema: { params: UwaObjectParams, querystring: UwaQuery, response },
      },
      async (request) => {
        const projectId = routeProject(request).project.id;
        const object = await findAccessObject(db, projectId, resource, request.params.id);
        // Who may see an object's access is who may view the object (as its access_controls route).
        const actor = await loadResourceActor(db, projectId, currentUser(request).id);
        if (!actor) throw notFound();
        requireAccess(actor, resource, 'read', object);
        return answer(projectId, { kind: 'object', resource, object }, request.query.member);
      },
    );
  }
}
