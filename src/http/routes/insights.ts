import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serving } from '../../access/route-access.js';
import { validation } from '../../domain/errors.js';
import {
  createInsight,
  deleteInsight,
  findInsight,
  listInsights,
  updateInsight,
  withDashboards,
  type InsightRecord,
  type Placement,
} from '../../domain/analytics/insights.js';
import { visibleTo } from '../../domain/access-control/resource-access.js';
import type { Queryable } from '../../store/database.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import { resourceActor } from '../resource-actor.js';
import * as show from '../serializers/insights.js';
import { NoContent, ProjectParams } from '../schemas/common.js';
import { Insight, InsightBody, InsightList, InsightListQuery, InsightParams } from '../schemas/insights.js';
import { routeProject } from './projects.js';

/** The insight's body schema, for the routes that take one too. */
export { InsightBody } from '../schemas/insights.js';

/** Where the request happens: the guard's project and its organization. */
export function placementOf(request: FastifyRequest): Placement {
  const { project } = routeProject(request);
  return { organizationId: project.organization_id, projectId: project.id };
}

function inputOf(body: InsightBody) {
  const { derived_name: _derived, ...input } = body;
  return input;
}

async function render(q: Queryable, records: readonly InsightRecord[]) {
  const views = await withDashboards(q, records);
  const users = await show.creators(
    q,
    views.map((v) => v.created_by_id),
  );
  return views.map((v) => show.insight(v, users));
}

/** Insights under /api/projects/:project_id/insights/ (a numeric id or the short id names one). */
export function insightRoutes(app: FastifyInstance, { db }: Deps): void {
  const base = '/api/projects/:project_id/insights/';
  const one = `${base}:insight_id/`;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    base,
    {
      config: { access: serving('insight', 'read', { resource: 'insight' }) },
      schema: { params: ProjectParams, querystring: InsightListQuery, response: { 200: InsightList } },
    },
    async (request) => {
      const gate = await resourceActor(db, request);
      const query: Record<string, unknown> = request.query;
      const text = (name: string) => {
        const value = query[name];
        if (value === undefined || value === '') return undefined;
        if (typeof value !== 'string' || value.length > 400) throw validation('Not a valid string.', name);
        return value;
      };
      const page = readPage(request);
      const shortId = text('short_id');
      const search = text('search');
      const stored = await listInsights(db, placementOf(request).projectId, {
        ...(shortId !== undefined ? { shortId } : {}),
        ...(search !== undefined ? { search } : {}),
      });
      const all = await visibleTo(gate, 'insight', stored);
      const results = await render(db, all.slice(page.offset, page.offset + page.limit));
      return paginated(request, page, all.length, results);
    },
  );

  api.post(
    base,
    {
      config: { access: serving('insight', 'write', { resource: 'insight' }) },
      schema: { params: ProjectParams, body: InsightBody, response: { 201: Insight } },
    },
    async (request, reply) => {
      const { body } = request;
      const insight = await db.transaction(async (tx) =>
        createInsight(tx, actorOf(request), await resourceActor(tx, request), placementOf(request), inputOf(body)),
      );
      const [shown] = await render(db, [insight]);
      return reply.code(201).send(shown!);
    },
  );

  api.get(
    one,
    {
      config: { access: serving('insight', 'read', { resource: 'insight', object: 'insight_id' }) },
      schema: { params: InsightParams, response: { 200: Insight } },
    },
    async (request) => {
      const insight = await findInsight(db, placementOf(request).projectId, request.params.insight_id);
      const [shown] = await render(db, [insight]);
      return shown!;
    },
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    api.route({
      method,
      url: one,
      config: { access: serving('insight', 'write', { resource: 'insight', object: 'insight_id' }) },
      schema: { params: InsightParams, body: InsightBody, response: { 200: Insight } },
      handler: async (request) => {
        const { insight_id } = request.params;
        const { body } = request;
        const insight = await db.transaction(async (tx) =>
          updateInsight(tx, actorOf(request), await resourceActor(tx, request), placementOf(request), insight_id, inputOf(body)),
        );
        const [shown] = await render(db, [insight]);
        return shown!;
      },
    });
  }

  api.delete(
    one,
    {
      config: { access: serving('insight', 'write', { resource: 'insight', object: 'insight_id' }) },
      schema: { params: InsightParams, response: { 204: NoContent } },
    },
    async (request, reply) => {
      const { insight_id } = request.params;
      await db.transaction(async (tx) => deleteInsight(tx, actorOf(request), await resourceActor(tx, request), placementOf(request), insight_id));
      return reply.code(204).send();
    },
  );
}
