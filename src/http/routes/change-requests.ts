import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import {
  createApprovalPolicy,
  decideChangeRequest,
  deleteApprovalPolicy,
  getChangeRequest,
  listApprovalPolicies,
  listChangeRequests,
  type ApprovalPolicyRecord,
} from '../../domain/change-requests.js';
import { validation } from '../../domain/errors.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import { resourceActor } from '../resource-actor.js';
import { showChangeRequest } from '../serializers/change-requests.js';
import { ProjectParams, routeProject } from './projects.js';

const RequestParams = Type.Object({ project_id: Type.String(), request_id: Type.String() });
const PolicyParams = Type.Object({ project_id: Type.String(), policy_id: Type.String() });
const Decision = Type.Object({ reason: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])) }, { additionalProperties: false });
const PolicyCreate = Type.Object(
  { action: Type.String({ maxLength: 64 }), role: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])) },
  { additionalProperties: false },
);
const STATES = ['pending', 'approved', 'rejected'];


const policy = (p: ApprovalPolicyRecord) => ({ id: p.id, action: p.action, role: p.role_id, created_by_id: p.created_by_id, created_at: p.created_at });

/** Approvals: change requests for guarded actions, and the project's approval policies (scope `approvals`). */
export function changeRequestRoutes(app: FastifyInstance, { db }: Deps): void {
  const base = '/api/projects/:project_id/change_requests/';
  const read = { access: scoped('approvals', 'read') };
  const write = { access: scoped('approvals', 'write') };

  app.get(base, { config: read, schema: { params: ProjectParams } }, async (request) => {
    const state = (request.query as Record<string, unknown>).state;
    if (state !== undefined && (typeof state !== 'string' || !STATES.includes(state))) {
      throw validation(`Select a valid choice. ${String(state)} is not one of the available choices.`, 'state', 'invalid_choice');
    }
    const page = readPage(request);
    const rows = await listChangeRequests(db, routeProject(request).project.id, state);
    const results = [];
    for (const r of rows.slice(page.offset, page.offset + page.limit)) results.push(await showChangeRequest(db, r));
    return paginated(request, page, rows.length, results);
  });

  app.get(`${base}:request_id/`, { config: read, schema: { params: RequestParams } }, async (request) => {
    const { request_id } = request.params as Static<typeof RequestParams>;
    return showChangeRequest(db, await getChangeRequest(db, routeProject(request).project.id, request_id));
  });

  for (const [verb, decision] of [['approve', 'approved'], ['reject', 'rejected']] as const) {
    app.post(`${base}:request_id/${verb}/`, { config: write, schema: { params: RequestParams, body: Decision } }, async (request) => {
      const { request_id } = request.params as Static<typeof RequestParams>;
      const { reason } = (request.body ?? {}) as Static<typeof Decision>;
      const actor = await resourceActor(db, request);
      const decided = await db.transaction((tx) => decideChangeRequest(tx, actorOf(request), actor, request_id, decision, reason ?? null));
      return showChangeRequest(db, decided);
    });
  }

  const policies = '/api/projects/:project_id/approval_policies/';
  app.get(policies, { config: read, schema: { params: ProjectParams } }, async (request) => {
    return (await listApprovalPolicies(db, routeProject(request).project.id)).map(policy);
  });

  app.post(policies, { config: write, schema: { params: ProjectParams, body: PolicyCreate } }, async (request, reply) => {
    const body = request.body as Static<typeof PolicyCreate>;
    const actor = await resourceActor(db, request);
    const created = await db.transaction((tx) => createApprovalPolicy(tx, actorOf(request), actor, body));
    return reply.code(201).send(policy(created));
  });

  app.delete(`${policies}:policy_id/`, { config: write, schema: { params: PolicyParams } }, async (request, reply) => {
    const { policy_id } = request.params as Static<typeof PolicyParams>;
    const actor = await resourceActor(db, request);
    await db.transaction((tx) => deleteApprovalPolicy(tx, actorOf(request), actor, policy_id));
    return reply.code(204).send();
  });
}
