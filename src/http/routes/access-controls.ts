import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { scoped } from '../../access/route-access.js';
import {
  accessControlsView,
  OBJECT_RESOURCES,
  putAccessControl,
  type AccessControlScope,
  type ObjectResource,
} from '../../domain/access-controls.js';
import { actorOf, currentUser, type Deps } from '../deps.js';
import * as show from '../serializers/access-controls.js';
import { ProjectParams, routeProject } from './projects.js';

/*
 * PostHog's AccessControlViewSetMixin: GET needs access_control:read, PUT access_control:write.
 * Who may change which rules is the domain's business (src/domain/access-controls.ts).
 */
const ObjectParams = Type.Object({ project_id: Type.String(), id: Type.String() });
const Nullable = (schema: ReturnType<typeof Type.String>) => Type.Optional(Type.Union([schema, Type.Null()]));
const AccessControlBody = Type.Object(
  {
    access_level: Type.Union([Type.String({ maxLength: 32 }), Type.Null()]),
    organization_member: Nullable(Type.String({ maxLength: 64 })),
    role: Nullable(Type.String({ maxLength: 64 })),
    resource: Type.Optional(Type.String({ maxLength: 64 })),
    // Taken from the URL (object routes) or null (project-wide rules), as PostHog does.
    resource_id: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export function accessControlRoutes(app: FastifyInstance, { db }: Deps): void {
  const read = { access: scoped('access_control', 'read') };
  const write = { access: scoped('access_control', 'write') };

  const register = (url: string, params: typeof ProjectParams | typeof ObjectParams, scopeOf: (request: FastifyRequest) => AccessControlScope) => {
    app.get(url, { config: read, schema: { params } }, async (request) => {
      const view = await accessControlsView(db, routeProject(request).project.id, currentUser(request).id, scopeOf(request));
      return show.accessControls(view);
    });
    app.put(url, { config: write, schema: { params, body: AccessControlBody } }, async (request, reply: FastifyReply) => {
      const body = request.body as Static<typeof AccessControlBody>;
      const input = {
        access_level: body.access_level,
        ...(body.organization_member !== undefined ? { organization_member: body.organization_member } : {}),
        ...(body.role !== undefined ? { role: body.role } : {}),
        ...(body.resource !== undefined ? { resource: body.resource } : {}),
      };
      const row = await db.transaction((tx) =>
        putAccessControl(tx, actorOf(request), routeProject(request).project.id, scopeOf(request), input),
      );
      return row === null ? reply.code(204).send() : show.accessControl(row);
    });
  };

  register('/api/projects/:project_id/access_controls/', ProjectParams, () => ({ kind: 'project' }));
  // `global_access_controls` is PostHog's deprecated name for `resource_access_controls`.
  for (const name of ['resource_access_controls', 'global_access_controls']) {
    register(`/api/projects/:project_id/${name}/`, ProjectParams, () => ({ kind: 'resource' }));
  }
  for (const [resource, { path }] of Object.entries(OBJECT_RESOURCES) as Array<[ObjectResource, (typeof OBJECT_RESOURCES)[ObjectResource]]>) {
    register(`/api/projects/:project_id/${path}/:id/access_controls/`, ObjectParams, (request) => ({
      kind: 'object',
      resource,
      objectId: (request.params as Static<typeof ObjectParams>).id,
    }));
  }
}
