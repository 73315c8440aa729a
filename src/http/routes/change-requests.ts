import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { scoped } from '../../access/route-access.js';
import {
  createApprovalPolicy,
  deleteApprovalPolicy,
  getApprovalPolicy,
  listApprovalPolicies,
  updateApprovalPolicy,
  type PolicyCaller,
  type PolicyInput,
} from '../../domain/access-control/approval-policies.js';
import {
  CHANGE_REQUEST_STATES,
  cancelChangeRequest,
  decideChangeRequest,
  expireDue,
  getChangeRequest,
  listChangeRequests,
  type ChangeRequestState,
} from '../../domain/access-control/change-requests.js';
import { validation } from '../../domain/errors.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import { resourceActor } from '../resource-actor.js';
import {
  OrganizationPolicyParams,
  PolicyCreate,
  PolicyListQuery,
  PolicyPage,
  PolicyPatch,
  ProjectPolicyParams,
  ApprovalPolicy,
} from '../schemas/approval-policies.js';
import { ChangeRequest, Decision, DecisionResult, RequestListQuery, RequestPage, RequestParams } from '../schemas/change-requests.js';
import { showApprovalPolicies, showChangeRequest, showChangeRequests } from '../serializers/change-requests.js';
import { ProjectParams, routeProject } from './projects.js';
import { OrgParams, routeOrganization } from './organizations.js';
import { NoContent } from '../schemas/common.js';

const isState = (s: string): s is ChangeRequestState => CHANGE_REQUEST_STATES.some((state) => state === s);

function states(raw: string | undefined): ChangeRequestState[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw.split(',');
  const bad = list.find((s) => !isState(s));
  if (bad !== undefined) throw validation(`Select a valid choice. ${bad} is not one of the available choices.`, 'state', 'invalid_choice');
  return list.filter(isState);
}

/** The body as the domain takes it: PostHog sends bypass levels as text. */
const policyInput = (body: PolicyCreate): PolicyInput => ({ ...body, bypass_org_membership_levels: body.bypass_org_membership_levels?.map(Number) });

/**
 * Approvals (scope `approvals`): a project's change requests, with PostHog's approve, reject and
 * cancel actions, and approval policies for a project or for a whole organization.
 */
export function changeRequestRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = typed(app);
  const base = '/api/projects/:project_id/change_requests/';
  const item = `${base}:request_id/`;
  const read = { access: scoped('approvals', 'read') };
  const write = { access: scoped('approvals', 'write') };

  api.get(base, { config: read, schema: { params: ProjectParams, querystring: RequestListQuery, response: { 200: RequestPage } } }, async (request) => {
    const q = request.query;
    const filters = {
      state: states(q.state),
      action_key: q.action_key ?? q.action_type,
      requester: q.requester === undefined ? undefined : Number(q.requester),
      resource_type: q.resource_type,
      resource_id: q.resource_id,
    };
    const page = readPage(request);
    const viewer = await resourceActor(db, request);
    const rows = await db.transaction((tx) => listChangeRequests(tx, routeProject(request).project.id, filters));
    return paginated(request, page, rows.length, await showChangeRequests(db, viewer, rows.slice(page.offset, page.offset + page.limit)));
  });

  api.get(item, { config: read, schema: { params: RequestParams, response: { 200: ChangeRequest } } }, async (request) => {
    const viewer = await resourceActor(db, request);
    const row = await db.transaction(async (tx) => {
      await expireDue(tx, viewer.projectId);
      return getChangeRequest(tx, viewer.projectId, request.params.request_id);
    });
    return showChangeRequest(db, viewer, row);
  });

  for (const verb of ['approve', 'reject', 'cancel'] as const) {
    api.post(`${item}${verb}/`, { config: write, schema: { params: RequestParams, body: Decision, response: { 200: DecisionResult } } }, async (request) => {
      const reason = request.body?.reason ?? null;
      const viewer = await resourceActor(db, request);
      const id = request.params.request_id;
      const result = await db.transaction((tx) =>
        verb === 'cancel'
          ? cancelChangeRequest(tx, actorOf(request), viewer, id, reason)
          : decideChangeRequest(tx, actorOf(request), viewer, id, verb === 'approve' ? 'approved' : 'rejected', reason),
      );
      return { status: result.status, message: result.message, change_request: await showChangeRequest(db, viewer, result.request) };
    });
  }

  policyRoutes(api, db, '/api/projects/:project_id/approval_policies/', ProjectParams, ProjectPolicyParams, async (request) => resourceActor(db, request));
  policyRoutes(api, db, '/api/organizations/:organization_id/approval_policies/', OrgParams, OrganizationPolicyParams, async (request) => {
    const { record, membership } = routeOrganization(request);
    return { organizationId: record.id, organizationLevel: membership.level };
  });
}

const typed = (app: FastifyInstance) => app.withTypeProvider<TypeBoxTypeProvider>();
type Api = ReturnType<typeof typed>;

/** List, create, read, change and remove policies at one level (project or organization). */
function policyRoutes(
  api: Api,
  db: Deps['db'],
  base: string,
  params: typeof ProjectParams | typeof OrgParams,
  itemParams: typeof ProjectPolicyParams | typeof OrganizationPolicyParams,
  callerOf: (request: FastifyRequest) => Promise<PolicyCaller>,
): void {
  const read = { access: scoped('approvals', 'read') };
  const write = { access: scoped('approvals', 'write') };
  const item = `${base}:policy_id/`;

  api.get(base, { config: read, schema: { params, querystring: PolicyListQuery, response: { 200: PolicyPage } } }, async (request) => {
    const page = readPage(request);
    const { action_key, enabled } = request.query;
    const rows = await listApprovalPolicies(db, await callerOf(request), { action_key, enabled: enabled === undefined ? undefined : enabled === 'true' });
    return paginated(request, page, rows.length, await showApprovalPolicies(db, rows.slice(page.offset, page.offset + page.limit)));
  });

  api.post(base, { config: write, schema: { params, body: PolicyCreate, response: { 201: ApprovalPolicy } } }, async (request, reply) => {
    const caller = await callerOf(request);
    const created = await db.transaction((tx) => createApprovalPolicy(tx, actorOf(request), caller, policyInput(request.body)));
    return reply.code(201).send((await showApprovalPolicies(db, [created]))[0]!);
  });

  api.get(item, { config: read, schema: { params: itemParams, response: { 200: ApprovalPolicy } } }, async (request) => {
    const policy = await getApprovalPolicy(db, await callerOf(request), request.params.policy_id);
    return (await showApprovalPolicies(db, [policy]))[0]!;
  });

  api.patch(item, { config: write, schema: { params: itemParams, body: PolicyPatch, response: { 200: ApprovalPolicy } } }, async (request) => {
    const caller = await callerOf(request);
    const updated = await db.transaction((tx) => updateApprovalPolicy(tx, actorOf(request), caller, request.params.policy_id, policyInput(request.body)));
    return (await showApprovalPolicies(db, [updated]))[0]!;
  });

  api.delete(item, { config: write, schema: { params: itemParams, response: { 204: NoContent } } }, async (request, reply) => {
    const caller = await callerOf(request);
    await db.transaction((tx) => deleteApprovalPolicy(tx, actorOf(request), caller, request.params.policy_id));
    return reply.code(204).send();
  });
}
