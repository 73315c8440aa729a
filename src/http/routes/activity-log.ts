import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OrganizationLevel } from '../../access/levels.js';
import { scoped, serving } from '../../access/route-access.js';
import { verifyChain } from '../../domain/activity/activity-chain.js';
import { readAuditKey } from '../../domain/activity/activity-signing.js';
import {
  iterateActivity,
  listActivityAfterCursor,
  listActivityPage,
  type ActivityArea,
  type ActivityCursor,
  type ActivityFilters,
  type ActivityRow,
} from '../../domain/activity/activity-log.js';
import { permissionDenied, validation } from '../../domain/errors.js';
import { INSUFFICIENT_ORG_LEVEL } from '../../access/messages.js';
import { listVisibleProjects } from '../../domain/organizations/projects.js';
import { projectsWithActivityAccess, redactForReader } from '../../domain/activity/activity-visibility.js';
import { isUuid } from '../../domain/identity/users.js';
import { currentUser, type Deps } from '../deps.js';
import { activityCsvHeader, activityCsvLine, activityEntry, activityExportEntry } from '../serializers/activity-log.js';
import { ActivityExport, ActivityExportQuery, ActivityPage, ChainReport, OrganizationActivityQuery, ProjectActivityQuery } from '../schemas/activity-log.js';
import { OrgParams, ProjectParams } from '../schemas/common.js';
import { routeOrganization } from './organizations.js';
import { routeProject } from './projects.js';

/**
 * PostHog's activity log: `GET /api/projects/:id/activity_log/` and the organization-wide
 * `GET /api/organizations/:id/activity_log/` (plus `export/` for a SIEM).
 *
 * Organization-level entries (team_id NULL: members, roles, API keys, the organization itself) are
 * included on the project route when `include_organization_scoped` is `1`/`true`; when that flag is
 * absent they are included exactly when the scope filter (`scope` or `scopes`) names `Organization`.
 * `include_organization_scoped=0`/`false` excludes them always.
 */

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const MAX_SCOPES = 100;
/** ISO 8601 date or date-time (with optional fraction and zone). */
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

type Query = Record<string, unknown>;

function single(q: Query, name: string): string | undefined {
  const value = q[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw validation('Expected a single value.', name);
  return value;
}

function positiveInt(q: Query, name: string): number | undefined {
  const value = single(q, name);
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,9}$/.test(value)) throw validation('A valid integer is required.', name);
  return Number(value);
}

function isoDate(q: Query, name: string): string | undefined {
  const value = single(q, name);
  if (value === undefined || value === '') return undefined;
  if (!ISO.test(value) || Number.isNaN(Date.parse(value))) {
    throw validation('Datetime has wrong format. Use an ISO 8601 date or date-time.', name);
  }
  return new Date(value).toISOString();
}

function readScopes(q: Query): string[] | undefined {
  const scope = single(q, 'scope');
  const scopes = single(q, 'scopes');
  if ((scope === undefined || scope === '') && (scopes === undefined || scopes === '')) return undefined;
  const list = [...(scope ? [scope] : []), ...(scopes ? scopes.split(',') : [])].map((s) => s.trim()).filter((s) => s !== '');
  if (list.length > MAX_SCOPES) throw validation(`Ensure this field has no more than ${MAX_SCOPES} elements.`, 'scopes');
  return [...new Set(list)];
}

function readFilters(q: Query, organizationRoute: boolean): ActivityFilters {
  const filters: ActivityFilters = {};
  const scopes = readScopes(q);
  if (scopes) filters.scopes = scopes;
  const user = single(q, 'user');
  if (user !== undefined && user !== '') {
    if (/^\d{1,9}$/.test(user)) filters.user = { id: Number(user) };
    else if (isUuid(user)) filters.user = { uuid: user.toLowerCase() };
    else throw validation('A valid user UUID or integer id is required.', 'user');
  }
  const itemId = single(q, 'item_id');
  if (itemId !== undefined && itemId !== '') {
    if (itemId.length > 72) throw validation('Ensure this field has no more than 72 characters.', 'item_id');
    filters.itemId = itemId;
  }
  const after = isoDate(q, 'after');
  const before = isoDate(q, 'before');
  if (after !== undefined) filters.after = after;
  if (before !== undefined) filters.before = before;
  if (after !== undefined && before !== undefined && Date.parse(after) > Date.parse(before)) {
    throw validation('The range ends before it starts: "after" must not be later than "before".', 'before', 'invalid_range');
  }
  if (organizationRoute) {
    const project = positiveInt(q, 'project');
    if (project !== undefined) filters.projectId = project;
  }
  return filters;
}

function readLimit(q: Query): number {
  return Math.min(Math.max(positiveInt(q, 'limit') ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
}

const encodeCursor = (c: ActivityCursor) => Buffer.from(`${c.direction === 'next' ? 'n' : 'p'}:${c.seq}`, 'utf8').toString('base64url');

function readCursor(q: Query): ActivityCursor | null {
  const value = single(q, 'cursor');
  if (value === undefined || value === '') return null;
  const decoded = /^[A-Za-z0-9_-]{1,40}$/.test(value) ? Buffer.from(value, 'base64url').toString('utf8') : '';
  const match = /^([np]):(\d{1,15})$/.exec(decoded);
  if (!match) throw validation('Invalid cursor.', 'cursor');
  return { direction: match[1] === 'n' ? 'next' : 'previous', seq: Number(match[2]) };
}

function linkWith(request: FastifyRequest, set: Record<string, string>, drop: string[] = []): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  for (const name of drop) url.searchParams.delete(name);
  for (const [name, value] of Object.entries(set)) url.searchParams.set(name, value);
  return url.toString();
}

/** The list answer: cursor pagination by default, numbered pages with `?page=N`. */
async function listAnswer(request: FastifyRequest, q: Query, db: Deps['db'], area: ActivityArea, filters: ActivityFilters) {
  const limit = readLimit(q);
  const pageParam = single(q, 'page');
  if (pageParam !== undefined) {
    if (!/^\d{1,9}$/.test(pageParam) || Number(pageParam) < 1) throw validation('A valid page number (1 or more) is required.', 'page');
    const page = Number(pageParam);
    const { rows: stored, count } = await listActivityPage(db, area, filters, limit, (page - 1) * limit);
    const rows = await redactForReader(db, stored, currentUser(request).id);
    return {
      count,
      next: page * limit < count ? linkWith(request, { page: String(page + 1), limit: String(limit) }, ['cursor']) : null,
      previous: page > 1 ? linkWith(request, { page: String(page - 1), limit: String(limit) }, ['cursor']) : null,
      results: rows.map(activityEntry),
    };
  }
  const cursor = readCursor(q);
  const { rows: stored, more } = await listActivityAfterCursor(db, area, filters, limit, cursor);
  const rows = await redactForReader(db, stored, currentUser(request).id);
  const first = rows[0];
  const last = rows[rows.length - 1];
  const hasOlder = cursor?.direction === 'previous' ? rows.length > 0 : more;
  const hasNewer = cursor === null ? false : cursor.direction === 'previous' ? more : rows.length > 0;
  const link = (c: ActivityCursor) => linkWith(request, { cursor: encodeCursor(c), limit: String(limit) });
  return {
    next: hasOlder && last ? link({ direction: 'next', seq: last.seq }) : null,
    previous: hasNewer && first ? link({ direction: 'previous', seq: first.seq }) : null,
    results: rows.map(activityEntry),
  };
}

function includeOrganizationScoped(q: Query, filters: ActivityFilters): boolean {
  const flag = single(q, 'include_organization_scoped');
  if (flag === undefined || flag === '') return filters.scopes?.includes('Organization') ?? false;
  if (flag === '1' || flag === 'true') return true;
  if (flag === '0' || flag === 'false') return false;
  throw validation('Must be a valid boolean.', 'include_organization_scoped');
}

/** The organization-wide area the caller may read: admins everything, members the projects they reach whose activity log they may view. */
export async function organizationArea(request: FastifyRequest, db: Deps['db']): Promise<ActivityArea> {
  const { record, membership } = routeOrganization(request);
  let projectIds: number[] | null =
    membership.level >= OrganizationLevel.ADMIN
      ? null
      : await projectsWithActivityAccess(
          db,
          (await listVisibleProjects(db, currentUser(request).id, record.id)).map((p) => p.id),
          currentUser(request).id,
        );
  const scopedTeams = request.ctx.apiKey?.scoped_teams;
  if (scopedTeams) projectIds = projectIds === null ? [...scopedTeams] : projectIds.filter((id) => scopedTeams.includes(id));
  return { kind: 'organization', organizationId: record.id, projectIds, includeSecurity: membership.level >= OrganizationLevel.ADMIN };
}

export function activityLogRoutes(app: FastifyInstance, { db, config }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/api/projects/:project_id/activity_log/',
    {
      config: { access: serving('activity_log', 'read', { resource: 'activity_log' }) },
      schema: { params: ProjectParams, querystring: ProjectActivityQuery, response: { 200: ActivityPage } },
    },
    async (request) => {
      const { project, organizationLevel } = routeProject(request);
      const q = request.query;
      const filters = readFilters(q, false);
      const area: ActivityArea = {
        kind: 'project',
        organizationId: project.organization_id,
        projectId: project.id,
        includeOrganizationScoped: includeOrganizationScoped(q, filters),
        includeSecurity: (organizationLevel ?? 0) >= OrganizationLevel.ADMIN,
      };
      return listAnswer(request, q, db, area, filters);
    },
  );

  api.get(
    '/api/organizations/:organization_id/activity_log/',
    {
      config: { access: scoped('activity_log', 'read') },
      schema: { params: OrgParams, querystring: OrganizationActivityQuery, response: { 200: ActivityPage } },
    },
    async (request) => {
      const filters = readFilters(request.query, true);
      return listAnswer(request, request.query, db, await organizationArea(request, db), filters);
    },
  );

  api.get(
    '/api/organizations/:organization_id/activity_log/export/',
    {
      config: { access: scoped('activity_log', 'read') },
      schema: { params: OrgParams, querystring: ActivityExportQuery, response: { 200: ActivityExport } },
    },
    async (request, reply) => {
      const { record, membership } = routeOrganization(request);
      if (membership.level < OrganizationLevel.ADMIN) throw permissionDenied(INSUFFICIENT_ORG_LEVEL);
      const q = request.query;
      const format = single(q, 'format') || 'ndjson';
      if (format !== 'ndjson' && format !== 'csv') throw validation(`"${format.slice(0, 40)}" is not a valid choice.`, 'format', 'invalid_choice');
      const filters = readFilters(q, true);
      const area = await organizationArea(request, db);
      const rows = iterateActivity(db, area, filters, 1000);
      const lines = format === 'csv' ? csvLines(rows) : ndjsonLines(rows);
      const stamp = new Date().toISOString().slice(0, 10);
      reply
        .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="activity-log-${record.id}-${stamp}.${format}"`)
        .header('cache-control', 'no-store');
      return reply.send(Readable.from(lines));
    },
  );

  // Tamper evidence: walks the organization's hash chain (src/domain/activity/activity-chain.ts).
  api.get(
    '/api/organizations/:organization_id/activity_log/verify/',
    { config: { access: scoped('activity_log', 'read') }, schema: { params: OrgParams, response: { 200: ChainReport } } },
    async (request) => {
      const { record, membership } = routeOrganization(request);
      if (membership.level < OrganizationLevel.ADMIN) throw permissionDenied(INSUFFICIENT_ORG_LEVEL);
      return verifyChain(db, record.id, { auditKey: readAuditKey(config.auditKeyFile) });
    },
  );
}

async function* ndjsonLines(rows: AsyncIterable<ActivityRow>): AsyncGenerator<string> {
  for await (const row of rows) yield `${JSON.stringify(activityExportEntry(row))}\n`;
}

async function* csvLines(rows: AsyncIterable<ActivityRow>): AsyncGenerator<string> {
  yield activityCsvHeader();
  for await (const row of rows) yield activityCsvLine(row);
}
