import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import {
  accessControlsView,
  OBJECT_RESOURCES,
  putAccessControl,
  type AccessControlScope,
  type ObjectResource,
} from '../../domain/access-control/access-controls.js';
import { grantTermsFrom } from '../../domain/access-control/grant-terms.js';
import { actorOf, currentUser, type Deps } from '../deps.js';
import * as show from '../serializers/access-controls.js';
import { AccessControl, AccessControlBody, AccessControls, ObjectParams } from '../schemas/access-controls.js';
import { NoContent, ProjectParams } from '../schemas/common.js';
import { routeProject } from './projects.js';

/*
 * PostHog's AccessControlViewSetMixin: GET needs access_control:read, PUT access_control:write.
 * Who may change which rules is the domain's business (src/domain/access-control/access-controls.ts).
 */

export function accessControlRoutes(app: FastifyInstance, { db }: Deps): void {
  const read = { access: scoped('access_control', 'read') };
  const write = { access: scoped('access_control', 'write') };
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  // `scopeOf` reads the URL's parameters: the object routes' `:id` names the object.
  const register = (url: string, params: typeof ProjectParams | typeof ObjectParams, scopeOf: (params: Partial<ObjectParams>) => AccessControlScope) => {
    api.get(url, { config: read, schema: { params, response: { 200: AccessControls } } }, async (request) => {
      const view = await accessControlsView(db, routeProject(request).project.id, currentUser(request).id, scopeOf(request.params));
      return show.accessControls(view);
    });
    api.put(url, { config: write, schema: { params, body: AccessControlBody, response: { 200: AccessControl, 204: NoContent } } }, async (request, reply) => {
      const { body } = request;
      const input = {
        access_level: body.access_level,
        ...(body.organization_member !== undefined ? { organization_member: body.organization_member } : {}),
        ...(body.role !== undefined ? { role: body.role } : {}),
        ...(body.resource !== undefined ? { resource: body.resource } : {}),
      };
      const terms = grantTermsFrom(body);
      const row = await db.transaction((tx) => putAccessControl(tx, actorOf(request), routeProject(request).project.id, scopeOf(request.params), input, terms));
      return row === null ? reply.code(204).send() : show.accessControl(row);
    });
  };

  register('/api/projects/:project_id/access_controls/', ProjectParams, () => ({ kind: 'project' }));
  // `global_access_controls` is PostHog's deprecated name for `resource_access_controls`.
  for (const name of ['resource_access_controls', 'global_access_controls']) {
    register(`/api/projects/:project_id/${name}/`, ProjectParams, () => ({ kind: 'resource' }));
  }
  for (const [resource, { path }] of Object.entries(OBJECT_RESOURCES) as Array<[ObjectResource, (typeof OBJECT_RESOURCES)[ObjectResource]]>) {
    register(`/api/projects/:project_id/${path}/:id/access_controls/`, ObjectParams, (params) => ({ kind: 'object', resource, objectId: params.id ?? '' }));
  }
}
