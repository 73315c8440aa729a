import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { askable, scoped } from '../../access/route-access.js';
import { decideAccessRequest } from '../../domain/access-control/access-request-decisions.js';
import { getAccessRequest, listDecidable, listForProject, type AccessRequestView } from '../../domain/access-control/access-request-reads.js';
import { fileAccessRequest } from '../../domain/access-control/access-requests.js';
import { actorOf, currentUser, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import {
  AccessRequest,
  AccessRequestApprove,
  AccessRequestCreate,
  AccessRequestDeny,
  AccessRequestListQuery,
  AccessRequestPage,
  AccessRequestParams,
} from '../schemas/access-requests.js';
import { OrgParams, ProjectParams } from '../schemas/common.js';
import { userBasic } from '../serializers.js';
import { routeOrganization } from './organizations.js';
import { routeProject } from './projects.js';

function show(r: AccessRequestView): AccessRequest {
  return {
    id: r.id,
    project_id: r.team_id,
    project_name: r.project_name,
    requester: userBasic(r.requester),
    resource: r.resource,
    resource_id: r.resource === 'project' ? null : r.resource_id,
    access_level: r.access_level,
    duration_hours: r.duration_hours,
    expires_at: r.requested_expires_at,
    reason: r.reason,
    state: r.state,
    decided_by: r.decider ? userBasic(r.decider) : null,
    decided_at: r.decided_at,
    decision_reason: r.decision_reason,
    granted_access_level: r.granted_access_level,
    granted_expires_at: r.granted_expires_at,
    access_control_id: r.access_control_id,
    created_at: r.created_at,
    can_decide: r.can_decide,
    is_requester: r.is_requester,
  };
}

/**
 * Access requests (docs/access-requests.md): filed by any member of the project's organization, even
 * one refused the project (`askable`); decided by those who could make the grant (the domain checks).
 */
export function accessRequestRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/api/projects/:project_id/access_requests/';
  const item = `${base}:request_id/`;

  api.post(
    base,
    { config: { access: askable('access_control', 'write') }, schema: { params: ProjectParams, body: AccessRequestCreate, response: { 201: AccessRequest } } },
    async (request, reply) => {
      const access = routeProject(request);
      const user = currentUser(request);
      const view = await db.transaction(async (tx) => {
        const created = await fileAccessRequest(tx, actorOf(request), user, access, request.body);
        return getAccessRequest(tx, access.project.id, created.id, user.id);
      });
      return reply.code(201).send(show(view));
    },
  );

  api.get(
    base,
    {
      config: { access: askable('access_control', 'read') },
      schema: { params: ProjectParams, querystring: AccessRequestListQuery, response: { 200: AccessRequestPage } },
    },
    async (request) => {
      const page = readPage(request);
      const rows = await listForProject(db, routeProject(request).project.id, currentUser(request).id, request.query.state);
      return paginated(request, page, rows.length, rows.slice(page.offset, page.offset + page.limit).map(show));
    },
  );

  api.get(
    item,
    { config: { access: askable('access_control', 'read') }, schema: { params: AccessRequestParams, response: { 200: AccessRequest } } },
    async (request) => show(await getAccessRequest(db, routeProject(request).project.id, request.params.request_id, currentUser(request).id)),
  );

  const decide = async (request: FastifyRequest, id: string, verdict: 'approved' | 'denied', body: Record<string, unknown>) => {
    const projectId = routeProject(request).project.id;
    return show(await db.transaction((tx) => decideAccessRequest(tx, actorOf(request), currentUser(request), projectId, id, verdict, body)));
  };
  const write = { access: scoped('access_control', 'write') };
  api.post(
    `${item}approve/`,
    { config: write, schema: { params: AccessRequestParams, body: AccessRequestApprove, response: { 200: AccessRequest } } },
    (request) => decide(request, request.params.request_id, 'approved', request.body ?? {}),
  );
  api.post(`${item}deny/`, { config: write, schema: { params: AccessRequestParams, body: AccessRequestDeny, response: { 200: AccessRequest } } }, (request) =>
    decide(request, request.params.request_id, 'denied', request.body),
  );

  api.get(
    '/api/organizations/:organization_id/access_requests/',
    {
      config: { access: scoped('access_control', 'read') },
      schema: { params: OrgParams, querystring: AccessRequestListQuery, response: { 200: AccessRequestPage } },
    },
    async (request) => {
      const page = readPage(request);
      const rows = await listDecidable(db, routeOrganization(request).record.id, currentUser(request).id);
      return paginated(request, page, rows.length, rows.slice(page.offset, page.offset + page.limit).map(show));
    },
  );
}
