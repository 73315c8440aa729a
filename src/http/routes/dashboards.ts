import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { serving } from '../../access/route-access.js';
import {
  createDashboard,
  deleteDashboard,
  getDashboard,
  listDashboards,
  tilesOf,
  updateDashboard,
  type DashboardRecord,
} from '../../domain/analytics/dashboards.js';
import { validation } from '../../domain/errors.js';
import { withDashboards } from '../../domain/analytics/insights.js';
import { visibleTo, type ResourceActor } from '../../domain/access-control/resource-access.js';
import type { Queryable } from '../../store/database.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import { resourceActor } from '../resource-actor.js';
import * as show from '../serializers/insights.js';
import { NoContent, ProjectParams } from '../schemas/common.js';
import { Dashboard, DashboardBody, DashboardList, DashboardListQuery, DashboardParams } from '../schemas/dashboards.js';
import { placementOf } from './insights.js';

/** A dashboard with the tiles whose insights the caller may view. */
async function render(q: Queryable, gate: ResourceActor, dashboard: DashboardRecord) {
  const tiles = await tilesOf(q, [dashboard.id]);
  const visible = await visibleTo(
    gate,
    'insight',
    tiles.map((t) => t.insight),
  );
  const views = await withDashboards(q, visible);
  const shown = tiles.flatMap((t) => {
    const view = views.find((v) => v.id === t.insight_id);
    return view ? [{ ...t, insight: view }] : [];
  });
  const users = await show.creators(q, [dashboard.created_by_id, ...views.map((v) => v.created_by_id)]);
  return show.dashboard(dashboard, shown, users);
}

/** Dashboards and their tiles under /api/projects/:project_id/dashboards/. */
export function dashboardRoutes(app: FastifyInstance, { db }: Deps): void {
  const base = '/api/projects/:project_id/dashboards/';
  const one = `${base}:dashboard_id/`;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    base,
    {
      config: { access: serving('dashboard', 'read', { resource: 'dashboard' }) },
      schema: { params: ProjectParams, querystring: DashboardListQuery, response: { 200: DashboardList } },
    },
    async (request) => {
      const gate = await resourceActor(db, request);
      const query = request.query;
      const search = query.search;
      if (search !== undefined && (typeof search !== 'string' || search.length > 400)) throw validation('Not a valid string.', 'search');
      const pinned = query.pinned;
      if (pinned !== undefined && pinned !== 'true' && pinned !== 'false') throw validation('Must be a valid boolean.', 'pinned');
      const page = readPage(request);
      const stored = await listDashboards(db, placementOf(request).projectId, {
        ...(typeof search === 'string' && search !== '' ? { search } : {}),
        ...(pinned !== undefined ? { pinned: pinned === 'true' } : {}),
      });
      const all = await visibleTo(gate, 'dashboard', stored);
      const slice = all.slice(page.offset, page.offset + page.limit);
      const users = await show.creators(
        db,
        slice.map((d) => d.created_by_id),
      );
      return paginated(
        request,
        page,
        all.length,
        slice.map((d) => show.dashboardBasic(d, users)),
      );
    },
  );

  api.post(
    base,
    {
      config: { access: serving('dashboard', 'write', { resource: 'dashboard' }) },
      schema: { params: ProjectParams, body: DashboardBody, response: { 201: Dashboard } },
    },
    async (request, reply) => {
      const { body } = request;
      const gate = await resourceActor(db, request);
      const dashboard = await db.transaction(async (tx) => createDashboard(tx, actorOf(request), await resourceActor(tx, request), placementOf(request), body));
      return reply.code(201).send(await render(db, gate, dashboard));
    },
  );

  api.get(
    one,
    {
      config: { access: serving('dashboard', 'read', { resource: 'dashboard', object: 'dashboard_id' }) },
      schema: { params: DashboardParams, response: { 200: Dashboard } },
    },
    async (request) => {
      const { dashboard_id } = request.params;
      const gate = await resourceActor(db, request);
      const dashboard = await getDashboard(db, placementOf(request).projectId, dashboard_id);
      return render(db, gate, dashboard);
    },
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    api.route({
      method,
      url: one,
      config: { access: serving('dashboard', 'write', { resource: 'dashboard', object: 'dashboard_id' }) },
      schema: { params: DashboardParams, body: DashboardBody, response: { 200: Dashboard } },
      handler: async (request) => {
        const { dashboard_id } = request.params;
        const { body } = request;
        const gate = await resourceActor(db, request);
        const dashboard = await db.transaction(async (tx) =>
          updateDashboard(tx, actorOf(request), await resourceActor(tx, request), placementOf(request), dashboard_id, body),
        );
        return render(db, gate, dashboard);
      },
    });
  }

  api.delete(
    one,
    {
      config: { access: serving('dashboard', 'write', { resource: 'dashboard', object: 'dashboard_id' }) },
      schema: { params: DashboardParams, response: { 204: NoContent } },
    },
    async (request, reply) => {
      const { dashboard_id } = request.params;
      await db.transaction(async (tx) => deleteDashboard(tx, actorOf(request), await resourceActor(tx, request), placementOf(request), dashboard_id));
      return reply.code(204).send();
    },
  );
}
